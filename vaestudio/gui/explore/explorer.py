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
from ...core.errors import VaeStudioError
from ...core.latent.groups import (MAX_GROUPS, Group, check_name, dataset_identity, find_group, groups_for,
                                   make_group, read_groups, write_groups)
from ...core.latent import embedding as maps
from ...core.latent.circle import enclosing_circle
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
    map_changed = Signal()  # `map_method`, `map_progress` or the map shown changed
    map_failed = Signal(str)  # a map could not be made (the canvas shows a dialog)
    _map_progress_sig = Signal(int, int, int, str)  # from the worker: request, done, total, text
    selection_changed = Signal()  # `selection` replaced (lasso, rectangle, filter, Esc)
    highlight_changed = Signal()  # `highlight` replaced (a shown group or the filter's matches)
    groups_changed = Signal()  # `groups` edited, restored from a run, or a new data set
    group_renamed = Signal(str, str)  # old name, new name; just before its groups_changed

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
        self._init_groups(session)
        self._init_maps(session)
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

    def pin_latent(self, z) -> Optional[Pin]:
        """Pin latent vector `z` itself (a neighbour's code: every coordinate kept, not only the
        view's two); None before there is a view."""
        if self.projection is None:
            return None
        pin = self._pin_for(np.asarray(z, dtype=np.float32).reshape(-1))
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
        self.map_runner.shutdown()  # a t-SNE stops at its next callback, UMAP's process is ended

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
            points = self._apply_map(enc)  # a t-SNE/UMAP map when one is chosen and made, else None
            if points is None:
                self.projection = make_projection(enc.codes, dims=self.dims, pca=self.pca)
                points = self.projection.to_view(enc.codes)
            self.points = points.astype(np.float32)
            if self.on_map:  # a circle to fit the view to (the canvas draws none on a map)
                self.circle, self.sphere_circle = enclosing_circle(points, self.coverage), None
            else:
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

    # -- groups: the canvas's selection and the named groups saved with the run -------------
    def _init_groups(self, session) -> None:
        """Selections and groups are rows of the explored split (row i = image i); the groups
        live in `run.extra[GROUPS_KEY]`, written back like the view (see `_store_groups`)."""
        self.selection = np.zeros(0, dtype=np.int64)  # sorted rows picked on the canvas
        self.highlight = np.zeros(0, dtype=np.int64)  # rows marked by the Groups dock
        self.highlight_text = ""
        self.groups: list = []  # every Group of the run, those of other data sets included
        self.group_problems: list[str] = []  # saved groups dropped when the run was read
        session.run_changed.connect(self._groups_on_run)
        session.dataset_changed.connect(self._groups_on_dataset)
        session.snapshot_changed.connect(self._store_groups)
        session.training_state_changed.connect(self._store_groups)
        self._restore_groups(session.run)

    def set_selection(self, rows) -> None:
        self.selection = np.unique(np.asarray(rows, dtype=np.int64).ravel())
        self.selection_changed.emit()

    def clear_selection(self) -> None:
        if self.selection.size:
            self.set_selection([])

    def set_highlight(self, rows, text: str = "") -> None:
        self.highlight = np.unique(np.asarray(rows, dtype=np.int64).ravel())
        self.highlight_text = text if self.highlight.size else ""
        self.highlight_changed.emit()

    def split_size(self) -> int:
        ds = self.dataset
        return 0 if ds is None else len(ds.split(self.split_name))

    def dataset_id(self) -> str:
        return dataset_identity(self.dataset)

    def applicable_groups(self) -> list:
        """The groups picked on this data set's explored split (the others wait in the run)."""
        if self.dataset is None:
            return []
        return groups_for(self.groups, self.split_name, self.dataset_id(), self.split_size())

    def applicable_group(self, name: str):
        return find_group(self.applicable_groups(), name)

    def add_group(self, name: str, rows):
        """Save `rows` of the explored split as a new group; VaeStudioError for a bad or taken name."""
        group = make_group(name, self.split_name, np.asarray(rows, dtype=np.int64), self.dataset_id())
        if find_group(self.groups, group.name) is not None:
            raise VaeStudioError(f"there is already a group named {group.name!r}")
        if len(self.groups) >= MAX_GROUPS:
            raise VaeStudioError(f"a model keeps at most {MAX_GROUPS} groups: delete one first")
        if not len(group):
            raise VaeStudioError("the group would be empty: select some points first")
        self.groups = self.groups + [group]
        self._groups_edited()
        return group

    def rename_group(self, old: str, new: str):
        g = find_group(self.groups, old)
        if g is None:
            raise VaeStudioError(f"there is no group named {old!r}")
        new = check_name(new)
        other = find_group(self.groups, new)
        if other is not None and other is not g:
            raise VaeStudioError(f"there is already a group named {new!r}")
        renamed = Group(new, g.split, g.indices, g.dataset)
        self.groups = [renamed if x is g else x for x in self.groups]
        self.group_renamed.emit(g.name, renamed.name)
        self._groups_edited()
        return renamed

    def remove_group(self, name: str) -> None:
        g = find_group(self.groups, name)
        if g is not None:
            self.groups = [x for x in self.groups if x is not g]
            self._groups_edited()

    def _groups_edited(self) -> None:
        self._store_groups()
        if self.session.run is not None:
            self.session.set_dirty(True, "groups")  # the groups are saved with the model: Save asks for it
        self.groups_changed.emit()

    def _restore_groups(self, run) -> None:
        self.groups, self.group_problems = [], []
        if run is not None and isinstance(getattr(run, "extra", None), dict):
            self.groups, self.group_problems = read_groups(run)

    def _store_groups(self, *_) -> None:
        """As `_store_view`: into the run when idle and the last epoch's saved state."""
        s = self.session
        for run in [s.saved_state] + ([s.run] if not s.training else []):
            if run is not None and isinstance(getattr(run, "extra", None), dict):
                write_groups(run, self.groups)

    @Slot(object)
    def _groups_on_run(self, run) -> None:
        self._restore_groups(run)
        self.selection = np.zeros(0, dtype=np.int64)
        self.set_highlight([])
        self.selection_changed.emit()
        self.groups_changed.emit()

    @Slot(object)
    def _groups_on_dataset(self, _dataset) -> None:
        """Other images: the rows picked no longer mean the same images."""
        self.selection = np.zeros(0, dtype=np.int64)
        self.set_highlight([])
        self.selection_changed.emit()
        self.groups_changed.emit()

    # -- t-SNE and UMAP maps: computed in the worker, kept per run and snapshot -------------
    def _init_maps(self, session) -> None:
        """A map is asked for with `set_map`; until it arrives the previous view stays. Maps are
        kept in memory for the run (not saved with it), keyed by method and options, and valid
        for the encodings they were made from, so coming back to one costs nothing."""
        self.map_method: Optional[str] = None  # the map asked for ("tsne", "umap"), or None: a plane
        self.map_progress: Optional[tuple[int, int, str]] = None  # (done, total, text) while computing
        self.map_options = {"seed": 0, "max_points": maps.DEFAULT_MAX_POINTS, "iterations": None}
        self._maps: dict[tuple, tuple] = {}  # key -> (the Encodings it maps, MapProjection)
        self._map_request = 0
        self.map_computations = 0  # maps computed (not taken from the cache), for the curious and tests
        # A runner of its own: a map takes seconds to minutes, and the shared runner's one thread
        # would keep the next epoch's encoding and every grid waiting behind it.
        self.map_runner = JobRunner(self)
        self._map_progress_sig.connect(self._on_map_progress)
        self.map_runner.finished.connect(self._maps_on_job)
        self.map_runner.failed.connect(self._maps_on_failed)
        self.encodings_changed.connect(self._maps_on_encodings)
        session.run_changed.connect(self._maps_on_run)

    @property
    def on_map(self) -> bool:
        """The view shown is a t-SNE or UMAP map (no inverse: no lattice, no circle)."""
        return self.projection is not None and not getattr(self.projection, "has_inverse", True)

    @property
    def map_computing(self) -> bool:
        return self.map_progress is not None

    def map_key(self, method: str) -> tuple:
        o = self.map_options
        return method, int(o["seed"]), int(o["max_points"]), o["iterations"]

    def cached_map(self, method: str):
        """The map of the current encodings with the current options, if one was made."""
        hit = self._maps.get(self.map_key(method))
        return hit[1] if hit is not None and hit[0] is self.encodings and self.encodings is not None else None

    def set_map(self, method: Optional[str]) -> bool:
        """Show the t-SNE ("tsne") or UMAP ("umap") map, computing it in the worker unless it is
        cached; None goes back to the plane. False (and a message) when the package is missing."""
        if method is None:
            self.leave_map()
            self._update_view()
            return True
        if method not in maps.METHODS:
            raise ValueError(f"unknown map {method!r}")
        if not maps.available(method):
            self.message.emit(maps.missing_message(method))
            self.map_changed.emit()
            return False
        self.map_method = method
        if self.cached_map(method) is not None:
            self._stop_map_job()
            self._update_view()
        elif self.encodings is not None and self.encodings.dim >= 2:
            self._request_map()
        self.map_changed.emit()
        return True

    def leave_map(self) -> None:
        """Forget the map asked for (a plane was chosen); the caller updates the view."""
        self.map_method = None
        self._stop_map_job()
        self.map_changed.emit()

    def cancel_map(self) -> None:
        """Stop the map being computed: the worker's job sees cancel() and returns within a few
        iterations (UMAP's process is terminated); the view on show stays."""
        self._stop_map_job()
        self.map_method = self.projection.kind if self.on_map else None
        self.map_changed.emit()

    def _stop_map_job(self) -> None:
        self.map_runner.discard("map")
        self._map_request += 1  # progress still queued from the old job is ignored
        self.map_progress = None

    def _request_map(self) -> None:
        enc, method, key = self.encodings, self.map_method, self.map_key(self.map_method)
        self._map_request += 1
        request, signal, o = self._map_request, self._map_progress_sig, dict(self.map_options)
        self.map_progress = (0, 0, f"{maps.TITLES[method]}: waiting for the worker...")

        def progress(done: int, total: int, text: str) -> None:
            try:  # a queued signal into the GUI thread (this runs in the worker)
                signal.emit(request, int(done), int(total), text)
            except RuntimeError:  # the window closed meanwhile
                pass

        def work(cancel):
            return enc, key, maps.embed(enc.codes, method, seed=o["seed"], max_points=o["max_points"],
                                        iterations=o["iterations"], progress=progress, cancel=cancel)

        self.map_runner.submit("map", work)

    def _apply_map(self, enc) -> Optional[np.ndarray]:
        """For `_update_view`: make the chosen map the projection and return its points, or None
        (no map chosen, or not made yet for these encodings: the plane is shown meanwhile)."""
        m = self.cached_map(self.map_method) if self.map_method is not None else None
        if m is None or len(m.codes) != len(enc):
            return None
        self.projection = m
        return m.points.astype(np.float64)

    @Slot(int, int, int, str)
    def _on_map_progress(self, request: int, done: int, total: int, text: str) -> None:
        if request == self._map_request and self.map_progress is not None:
            self.map_progress = (done, total, text)
            self.map_changed.emit()

    @Slot(str, object)
    def _maps_on_job(self, key: str, result) -> None:
        if key != "map" or result is None:
            return
        enc, map_key, projection = result
        self.map_computations += 1
        self._maps[map_key] = (enc, projection)
        self.map_progress = None
        if enc is self.encodings and self.map_method == map_key[0]:
            self._update_view()
        self.map_changed.emit()

    @Slot(str, str)
    def _maps_on_failed(self, key: str, message: str) -> None:
        if key != "map":
            return
        title = maps.TITLES.get(self.map_method or "", "The")
        self.map_progress = None
        self.map_method = self.projection.kind if self.on_map else None
        self.message.emit(f"{title} map failed: {message}")
        self.map_failed.emit(f"{title} map failed: {message}")
        self.map_changed.emit()

    @Slot()
    def _maps_on_encodings(self) -> None:
        """New codes (an epoch, another data set): maps of the old ones go; the chosen map is
        made again (the plane shows meanwhile)."""
        self._maps = {k: v for k, v in self._maps.items() if v[0] is self.encodings}
        if self.map_method is not None and self.encodings is not None and self.encodings.dim >= 2:
            if self.cached_map(self.map_method) is None:
                self._request_map()
                self.map_changed.emit()

    @Slot(object)
    def _maps_on_run(self, _run) -> None:
        self._maps = {}
        self.leave_map()


def _shape(shape) -> str:
    c, h, w = shape
    return f"{w}×{h}{'' if c == 1 else f'×{c}'}"
