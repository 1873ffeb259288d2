"""File > Open Dataset: the built-ins, the MNIST family, and the sets read from a folder or a
file, and the questions each one needs answered (which folder, which file) before it opens."""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtWidgets import QMenu, QWidget

from ..core.data.base import DatasetSpec
from . import dialogs
from .settings import AppSettings

# The MNIST family gets a submenu; sets the user points at ask for a folder or a file.
MNIST_FAMILY = ("mnist", "fashion-mnist", "kmnist", "emnist")
PICKED = {"celeba": ("CelebA folder...", "folder"), "folder": ("Image folder...", "folder"),
          "npz": ("Arrays (.npz)...", "file")}


def _infos() -> list:
    from ..core.data.registry import list_datasets
    return list_datasets()


def title_of(name: str) -> str:
    return next((i.title for i in _infos() if i.name == name), name)


def needs_pick(name: str) -> bool:
    return name in PICKED


def build_dataset_menu(menu: QMenu, on_chosen: Callable[[str], None]) -> dict:
    """Fill `menu`; each action calls `on_chosen(name)`. Returns {name: QAction}."""
    actions = {}

    def add(target: QMenu, name: str, text: str) -> None:
        act = target.addAction(text)
        act.setObjectName(f"openDataset_{name}")
        act.setData(name)
        act.triggered.connect(lambda _=False, n=name: on_chosen(n))
        actions[name] = act

    infos = _infos()
    for info in infos:
        if info.kind == "builtin":
            add(menu, info.name, info.title)
    menu.addSeparator()
    family = menu.addMenu("MNIST Family")
    for info in infos:
        if info.name in MNIST_FAMILY:
            add(family, info.name, info.title)
    for info in infos:
        if info.kind != "builtin" and info.name not in MNIST_FAMILY and info.name not in PICKED:
            add(menu, info.name, info.title)
    menu.addSeparator()
    for name, (text, _) in PICKED.items():
        add(menu, name, text)
    return actions


def spec_for(parent: QWidget, settings: AppSettings, name: str) -> Optional[DatasetSpec]:
    """The spec to open for a menu choice, asking for a folder or file where one is needed;
    None when the user cancels."""
    ask = PICKED[name][1] if name in PICKED else None
    start = settings.last_folder(name) or ""
    if ask == "folder":
        root = dialogs.choose_folder(parent, f"Open {title_of(name)}", start)
    elif ask == "file":
        root = dialogs.choose_file(parent, f"Open {title_of(name)}", start)
    else:
        return DatasetSpec(name=name, root=settings.last_folder(name))
    return DatasetSpec(name=name, root=root) if root else None


def remember(settings: AppSettings, spec: DatasetSpec) -> None:
    """Store where a data set was found, for the next time it is chosen."""
    settings.set_last_dataset(spec.to_dict())
    if spec.root:
        settings.set_last_folder(spec.name, spec.root)
