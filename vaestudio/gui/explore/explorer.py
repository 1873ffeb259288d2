"""What every latent tool shares: the snapshot being explored, the encodings of its validation
split, the 2-D view, the point under the cursor and the pinned points.

The panels never talk to each other; they read an `Explorer` and listen to its signals, the
way the window's panels use the `Session`. Encoding runs in the `JobRunner` after every
epoch (latest request wins), always on the session's snapshot (a CPU copy), never on the
model being trained.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from ...core.latent import (DEFAULT_COVERAGE, Circle, Encodings, Projection, decode_batch, encode_split,
                            make_projection, plane_circles)
from .jobs import JobRunner
from .own_images import OwnImages

SPLIT = "validation"
MAX_PINS = 8  # the oldest goes when one more is pinned
SHOW_MODES = ("auto", "points", "density")  # the canvas's Show choices
VIEW_KEY = "view"  # run.extra[VIEW_KEY]: the plane and Show mode, saved with the model


def pin_name(index: int) -> str:
    """A, B, C...: how the canvas and the decoder panel name pin `index`."""
    return chr(ord("A") + index % 26)


@dataclass(frozen=True, eq=False)
class Pin:
    """A clicked point: its latent vector, where it is in the view, and the nearest encoding."""

    z: np.ndarray  # float32 (D,)
    view: np.ndarray  # (2,)
    nearest: int  # row of the encodings (= image index in the split); -1 when there are none


class Explorer(QObject):
    decoder_changed = Signal()  # `model` replaced (a new snapshot, or None)
    encodings_changed = Signal()  # `encodings` replaced (or cleared)
    view_changed = Signal()  # `projection`, `points` and `circle` replaced
    hover_changed = Signal()  # `hover_z` moved
    pins_changed = Signal()
    lattice_overlay_changed = Signal()  # `lattice_overlay`: a Lattice to draw, or None
    path_overlay_changed = Signal()  # `path_overlay`: (k, 2) view points to draw, or None
    busy_changed = Signal(bool)  # encoding in progress
    message = Signal(str)  # a problem worth showing (a failed encoding)

    def __init__(self, session, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.session = session
        self.runner = JobRunner(self)
        self.runner.finished.connect(self._on_job)
        self.runner.failed.connect(self._on_job_failed)
        self.own_images = OwnImages(self)  # pictures the user brought; first to hear of a new model
        self.model = None  # the AutoEncoder CPU copy being explored
        self.encodings: Optional[Encodings] = None
        self.projection: Optional[Projection] = None
        self.points: Optional[np.ndarray] = None  # (N, 2) view coordinates of the encodings
        self.circle: Optional[Circle] = None  # the view's coverage circle (of `points`), view coordinates
        self.sphere_circle: Optional[Circle] = None  # the D-sphere's great circle for D > 2, else None
        self.dims: tuple[int, int] = (0, 1)
        self.pca = False
        self.show_mode = "auto"  # the canvas's Show mode, remembered with the plane per model
        self.coverage = DEFAULT_COVERAGE
        self.hover_z: Optional[np.ndarray] = None
        self.hover_view: Optional[np.ndarray] = None
        self.pins: list[Pin] = []
        self.lattice_overlay = None
        self.path_overlay: Optional[np.ndarray] = None
        self.busy = False
        session.snapshot_changed.connect(self._on_snapshot)
        session.run_changed.connect(self._on_model)
        session.dataset_changed.connect(self._on_dataset)
        session.training_state_changed.connect(self._store_view)
        self._restore_view(session.run)
        if session.snapshot is not None:
            self._on_snapshot(session.snapshot)

    # -- what panels ask ----------------------------------------------------------------
    @property
    def dataset(self):
        return self.session.dataset

    @property
    def ready(self) -> bool:
        """Encodings and a view exist: the canvas, lattice and mixer have something to show."""
        return self.encodings is not None and self.projection is not None

    @property
    def latent_dim(self) -> int:
        return int(self.model.config.latent_dim) if self.model is not None else 0

    def decode(self, z) -> np.ndarray:
        """Decode in the calling thread (one hover point: ~0.1 ms for an MLP, ~4 ms for a conv)."""
        return decode_batch(self.model, z)

    @property
    def split_name(self) -> str:
        """The validation split, or the test split of a data set opened without one (validation=0)."""
        ds = self.dataset
        return SPLIT if ds is None or len(ds.split(SPLIT)) else "test"

    def split_images(self) -> np.ndarray:
        return self.dataset.split(self.split_name).images

    def image(self, index: int) -> np.ndarray:
        """uint8 (C, H, W) image `index` of the explored split."""
        return np.asarray(self.split_images()[int(index)])

    def describe_image(self, index: int) -> str:
        enc = self.encodings
        text = f"#{index}"
        if enc is not None and enc.labels is not None:
            lab = int(enc.labels[index])
            names = enc.label_names
            text += f" · {names[lab] if names and 0 <= lab < len(names) else lab}"
        return text

    def nearest(self, view_point) -> int:
        """The encoding nearest `view_point` in the view (what the user sees under the cursor)."""
        if self.points is None or len(self.points) == 0:
            return -1
        d = self.points - np.asarray(view_point, dtype=np.float32)
        return int(np.einsum("ij,ij->i", d, d).argmin())

    # -- what the canvas and panels tell ------------------------------------------------
    def hover_at(self, view_point) -> None:
        if self.projection is None:
            return
        self.hover_view = np.asarray(view_point, dtype=np.float64)
        self.hover_z = self.projection.to_latent(self.hover_view)
        self.hover_changed.emit()

    def clear_hover(self) -> None:
        """Nothing under the cursor any more (Esc): the preview empties."""
        self.hover_z = self.hover_view = None
        self.hover_changed.emit()

    def pin_at(self, view_point) -> Pin:
        """Pin the point under the cursor; the `MAX_PINS` newest pins are kept."""
        pin = self._pin_for(self.projection.to_latent(np.asarray(view_point, dtype=np.float64)))
        self.pins = (self.pins + [pin])[-MAX_PINS:]
        self.pins_changed.emit()
        return pin

    def remove_pin(self, index: int) -> None:
        """Drop pin `index` (the others keep their order, so their letters close up)."""
        if 0 <= index < len(self.pins):
            del self.pins[index]
            self.pins_changed.emit()

    def clear_pins(self) -> None:
        self.pins = []
        self.pins_changed.emit()

    def set_show_mode(self, mode: str) -> None:
        """The canvas's Show mode, kept with the plane (see `view_settings`)."""
        if mode not in SHOW_MODES:
            raise ValueError(f"unknown canvas mode {mode!r}")
        self.show_mode = mode
        self._store_view()

    def view_settings(self) -> dict:
        """The plane and Show mode as plain data (what `run.extra["view"]` holds)."""
        return {"dims": [int(self.dims[0]), int(self.dims[1])], "pca": bool(self.pca), "mode": self.show_mode}

    def set_view(self, dims: Optional[tuple[int, int]] = None, pca: Optional[bool] = None) -> None:
        """Show coordinates `dims`, or the PCA plane."""
        if dims is not None:
            self.dims = (int(dims[0]), int(dims[1]))
        if pca is not None:
            self.pca = bool(pca)
        self._update_view()
        self._store_view()

    def set_lattice_overlay(self, lattice) -> None:
        self.lattice_overlay = lattice
        self.lattice_overlay_changed.emit()

    def set_path_overlay(self, points) -> None:
        self.path_overlay = None if points is None else np.asarray(points)
        self.path_overlay_changed.emit()

    def request_encoding(self) -> None:
        """Encode the split with the current snapshot in the worker (supersedes a running one)."""
        model, dataset = self.model, self.dataset
        if model is None or dataset is None:
            return
        if tuple(model.config.image_shape) != tuple(dataset.image_shape):
            self._clear_encodings()
            self.message.emit(f"The model takes {_shape(model.config.image_shape)} images but "
                              f"{dataset.name} has {_shape(dataset.image_shape)}")
            return
        split = self.split_name
        self.runner.submit("encode", lambda cancel: encode_split(model, dataset, split, cancel=cancel))
        self._set_busy(True)

    def shutdown(self) -> None:
        self.runner.shutdown()

    # -- session reactions --------------------------------------------------------------
    @Slot(object)
    def _on_snapshot(self, snapshot) -> None:
        if snapshot is None:
            return
        if self.model is None or snapshot.config.latent_dim != self.model.config.latent_dim:
            self._restore_view(self.session.run)
        self.model = snapshot
        self._store_view()  # into the epoch's saved state, which File > Save writes while training
        self.decoder_changed.emit()
        self.request_encoding()

    @Slot(object)
    def _on_model(self, _run) -> None:
        """A new, opened or discarded model: what was shown belongs to the old one."""
        self.runner.discard("encode")
        self.model = self.session.snapshot
        self._restore_view(self.session.run)
        self.pins = []
        self.hover_z = self.hover_view = None
        self._set_busy(False)
        self._clear_encodings()
        self.pins_changed.emit()
        self.decoder_changed.emit()

    @Slot(object)
    def _on_dataset(self, _dataset) -> None:
        self.pins = []
        self.pins_changed.emit()
        self._clear_encodings()
        self.request_encoding()

    @Slot(str, object)
    def _on_job(self, key: str, result) -> None:
        if key != "encode":
            return
        self._set_busy(False)
        self.encodings = result
        self._update_view(encodings_changed=True)

    @Slot(str, str)
    def _on_job_failed(self, key: str, message: str) -> None:
        if key == "encode":
            self._set_busy(False)
            self.message.emit(f"Encoding failed: {message}")

    # -- internals ----------------------------------------------------------------------
    def _clear_encodings(self) -> None:
        self.encodings = self.projection = self.points = self.circle = self.sphere_circle = None
        self.encodings_changed.emit()
        self.view_changed.emit()

    def _update_view(self, encodings_changed: bool = False) -> None:
        enc = self.encodings
        if enc is None or enc.dim < 2:
            self.projection = self.points = self.circle = self.sphere_circle = None
        else:
            d = enc.dim
            if not (0 <= self.dims[0] < d and 0 <= self.dims[1] < d) or self.dims[0] == self.dims[1]:
                self.dims = (0, 1)
            self.projection = make_projection(enc.codes, dims=self.dims, pca=self.pca)
            points = self.projection.to_view(enc.codes)
            self.points = points.astype(np.float32)
            self.circle, self.sphere_circle = plane_circles(enc.codes, self.projection, self.coverage, points)
            self.pins = [self._pin_for(p.z) for p in self.pins]  # same latents, new view
        if encodings_changed:
            self.encodings_changed.emit()
        self.view_changed.emit()
        self.pins_changed.emit()

    def _restore_view(self, run) -> None:
        """The plane and Show mode saved with `run`, or the defaults; anything malformed in the
        file (another version, a hand edit) falls back to them field by field."""
        self.dims, self.pca, self.show_mode = (0, 1), False, "auto"
        view = getattr(run, "extra", None)
        view = view.get(VIEW_KEY) if isinstance(view, dict) else None
        if not isinstance(view, dict):
            return
        dims = view.get("dims")
        if (isinstance(dims, (list, tuple)) and len(dims) == 2
                and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 1_000_000 for d in dims)
                and dims[0] != dims[1]):
            self.dims = (int(dims[0]), int(dims[1]))  # checked against the latent size when shown
        if isinstance(view.get("pca"), bool):
            self.pca = view["pca"]
        if isinstance(view.get("mode"), str) and view["mode"] in SHOW_MODES:
            self.show_mode = view["mode"]

    def _store_view(self, *_) -> None:
        """Write the view into the runs the GUI owns: the run itself when idle (the worker owns
        it while training) and the last epoch's saved state (what Save writes meanwhile)."""
        s = self.session
        runs = [s.saved_state] + ([s.run] if not s.training else [])
        for run in runs:
            if run is not None and isinstance(getattr(run, "extra", None), dict):
                run.extra[VIEW_KEY] = self.view_settings()

    def _pin_for(self, z) -> Pin:
        view = self.projection.to_view(z)
        return Pin(z=np.asarray(z, dtype=np.float32), view=view, nearest=self.nearest(view))

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)


def _shape(shape) -> str:
    c, h, w = shape
    return f"{w}×{h}{'' if c == 1 else f'×{c}'}"
