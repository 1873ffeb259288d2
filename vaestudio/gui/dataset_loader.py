"""Opens data sets off the GUI thread (generation, conversion and downloads can take long),
with a cancellable progress dialog; the newest request wins over one still running."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from ..core.data.base import DatasetSpec
from .progress_task import ProgressTask

REACH_TIMEOUT_S = 3.0  # the longest the connection check may take (it runs in the worker)
# Where torchvision downloads each family from, should its class not say (torchvision 0.2x).
_FALLBACK_URLS = {"MNIST": "https://ossci-datasets.s3.amazonaws.com/mnist/",
                  "FashionMNIST": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                  "KMNIST": "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
                  "EMNIST": "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
                  "CIFAR10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"}


@dataclass
class MissingData:
    """What the window tells a person whose data set files are missing, worked out in the
    loader's thread: where the files were looked for and whether a download can work now."""

    message: str  # the data layer's one line (it may name command-line flags: not for the window)
    looked_in: list[str] = field(default_factory=list)
    needed: str = ""  # the files it needs, for the dialog
    downloadable: bool = False
    can_download: bool = False
    why_not: str = ""  # why a download cannot work now ("" when it can or is not offered)


def _torchvision_class(name: str) -> str:
    from ..core.data.mnist import FAMILIES
    return FAMILIES[name].folder if name in FAMILIES else {"cifar10": "CIFAR10"}.get(name, "")


def download_url(name: str) -> str:
    """The address torchvision downloads data set `name` from ("" when unknown)."""
    cls_name = _torchvision_class(name)
    try:
        import torchvision.datasets as tvd
        own = vars(getattr(tvd, cls_name))  # its own: EMNIST inherits MNIST's mirrors but has a url
        url = (own.get("mirrors") or [own.get("url") or ""])[0]
    except Exception:  # noqa: BLE001 -- a torchvision without the class or attribute: use ours
        url = ""
    return url or _FALLBACK_URLS.get(cls_name, "")


def download_reachable(url: str, timeout: float = REACH_TIMEOUT_S) -> tuple[bool, str]:
    """(True, "") when a TCP connection to `url`'s host opens within `timeout` seconds, else
    (False, why). Name lookups ignore socket timeouts, so the attempt runs in a daemon thread
    that is abandoned when it takes too long."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return False, "the download address is unknown"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result: list = []

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append("")
        except Exception as e:  # noqa: BLE001 -- OSError in practice; nothing may escape a thread
            result.append(getattr(e, "strerror", None) or str(e) or type(e).__name__)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if not result:
        return False, f"{host} did not answer within {timeout:g} seconds"
    if result[0]:
        return False, f"{host} cannot be reached ({result[0]})"
    return True, ""


def looked_in(name: str, root: Path, options: Optional[dict] = None) -> tuple[list[str], str]:
    """(the folders data set `name` looks for its files in, in order; the files it needs)."""
    from ..core.data.mnist import FAMILIES
    from ..core.data.registry import dataset_info

    if name in FAMILIES:
        fam = FAMILIES[name]
        split = str((options or {}).get("split") or dataset_info(name).options.get("split", ""))
        files = ", ".join(fam.file_names(split).values()) + " (plain or .gz)"
        return [str(root / fam.folder / "raw"), str(root / "raw"), str(root)], files
    if name == "cifar10":
        from ..core.data.cifar import FOLDER
        return [str(root / FOLDER), str(root)], dataset_info(name).expected_files
    return [str(root)], dataset_info(name).expected_files


def _missing(spec: DatasetSpec, exc, progress) -> MissingData:
    from ..core.data.registry import dataset_info

    info = dataset_info(spec.name)
    # Where the registry looked: the spec's folder, else the data set's default one.
    given = spec.root or info.default_root
    root = Path(given).expanduser().absolute() if given else None
    folders, needed = looked_in(spec.name, root, spec.options) if root is not None else ([exc.path or ""], "")
    missing = MissingData(str(exc), folders, needed, info.downloadable)
    if info.downloadable:
        url = download_url(spec.name)
        if progress:
            progress(0, 0, f"Checking the connection to {urlsplit(url).hostname or 'the download site'}...")
        missing.can_download, missing.why_not = download_reachable(url)
    return missing


def _open(spec: DatasetSpec, download: bool):
    from ..core.data.registry import open_dataset
    from ..core.errors import DataNotFoundError

    def work(progress, cancel):
        try:
            return open_dataset(spec, download=download, progress=progress, cancel=cancel)
        except DataNotFoundError as e:
            if not download:  # the window asks what to do: find out here, off the GUI thread
                e.missing = _missing(spec, e, progress)
            raise
    return work


class DatasetLoader(QObject):
    loaded = Signal(object)  # ImageDataset
    failed = Signal(object, str, str)  # DatasetSpec, message, details ('' for expected errors)
    not_found = Signal(object, object)  # DatasetSpec, MissingData: its files are missing
    cancelled = Signal(object)  # DatasetSpec

    def __init__(self, parent_widget: QWidget):
        super().__init__(parent_widget)
        self.parent_widget = parent_widget
        self.task: Optional[ProgressTask] = None  # the one whose result counts
        self._tasks: list[ProgressTask] = []  # every task whose thread may still run
        self.spec: Optional[DatasetSpec] = None
        self.download = False

    @property
    def busy(self) -> bool:
        return self.task is not None

    def load(self, spec: DatasetSpec, *, download: bool = False) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.succeeded.disconnect(self._on_loaded)
            self.task.failed.disconnect(self._on_failed)
            self.task.cancelled.disconnect(self._on_cancelled)
        self.spec, self.download = spec, download
        title = f"Opening {spec.name}" + (" (downloading)" if download else "")
        self.task = ProgressTask(self.parent_widget, title, _open(spec, download))
        self.task.succeeded.connect(self._on_loaded)
        self.task.failed.connect(self._on_failed)
        self.task.cancelled.connect(self._on_cancelled)
        self.task.ended.connect(self._prune)
        self._tasks.append(self.task)
        self.task.start()

    def shutdown(self) -> None:
        """Cancel everything and wait for the threads (closing the window)."""
        for task in self._tasks:
            task.shutdown()
        self._tasks.clear()
        self.task = None

    @Slot()
    def _prune(self) -> None:
        self._tasks = [t for t in self._tasks if t.running]

    @Slot(object)
    def _on_loaded(self, dataset) -> None:
        self.task = None
        self.loaded.emit(dataset)

    @Slot(object, str, str)
    def _on_failed(self, exc, message: str, details: str) -> None:
        from ..core.errors import DataNotFoundError

        self.task = None
        missing = getattr(exc, "missing", None)
        if isinstance(exc, DataNotFoundError) and self.download:
            # The download itself failed: one error with its reason, never the question again.
            problem = exc.problem if "--download" not in exc.problem else ""
            reason = problem or "its files were still missing after the download"
            self.failed.emit(self.spec, f"{dataset_title(self.spec.name)} could not be downloaded: {reason}", "")
        elif isinstance(exc, DataNotFoundError):
            self.not_found.emit(self.spec, missing or MissingData(message, [exc.path or ""]))
        else:
            self.failed.emit(self.spec, message, details)

    @Slot()
    def _on_cancelled(self) -> None:
        self.task = None
        self.cancelled.emit(self.spec)


def dataset_title(name: str) -> str:
    from ..core.data.registry import dataset_info
    try:
        return dataset_info(name).title
    except Exception:  # noqa: BLE001 -- an unknown name is shown as it is
        return name
