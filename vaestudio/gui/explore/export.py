"""Exports of the latent tools, from the Export menu and the panels' buttons: the scatter, the
lattice, the prior samples and the strips as PNG; interpolations and attribute sweeps as GIF or
MP4; the lattice's sites, the explored codes and the loss history as tables (CSV, NPY), written
by the same core functions as the CLI's. The codes are chosen in the GUI thread (cheap);
decoding and writing run in a worker with the window's progress dialog (`ProgressTask`), which
can cancel between chunks. Each kind of export (image, animation, table) opens its chooser in
the folder it last wrote to, remembered in the app's settings across sessions. An animation
starts from its panel's steps and the panel then follows the frame count exported, so the two
never disagree silently.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from ...core.animation import save_frames
from ...core.errors import Cancelled
from ...core.history_table import run_dataset_names, write_history_csv
from ...core.latent import decode_batch, write_sites_csv
from ...core.render import auto_scale, image_grid, save_image, scatter_plot
from .. import dialogs
from ..progress_task import ProgressTask
from ..settings import AppSettings
from . import export_dialog
from .canvas import lattice_square
from .explorer import Explorer

CHUNK = 64  # frames or tiles decoded between progress reports and cancel checks


def decode_chunks(model, z: np.ndarray, progress, cancel) -> np.ndarray:
    """decode_batch in chunks, reporting progress and honouring cancel."""
    parts = []
    for lo in range(0, len(z), CHUNK):
        if cancel():
            raise Cancelled("export cancelled")
        parts.append(decode_batch(model, z[lo:lo + CHUNK]))
        progress(min(lo + CHUNK, len(z)), len(z), "Decoding...")
    return np.concatenate(parts)


class ExportController(QObject):
    """Owns the export actions; `exported(path, info)` after each file written."""

    exported = Signal(str, object)  # path, AnimationInfo for animations (None for PNGs)

    def __init__(self, explorer: Explorer, canvas, lattice, mixer, interpolation, parent: QWidget):
        super().__init__(parent)
        self.explorer = explorer
        self.canvas, self.lattice, self.mixer, self.interpolation = canvas, lattice, mixer, interpolation
        self.parent_widget = parent
        self.settings: AppSettings = getattr(parent, "settings", None) or AppSettings()
        self.task: Optional[ProgressTask] = None
        self._kind = ""  # the running export's kind, whose folder is remembered when it succeeds
        self._note = ""  # said after the next export's status message
        self.last_error: Optional[str] = None
        spec = (
            ("scatter", "Latent &Scatter as PNG…", self.export_scatter),
            ("lattice", "&Lattice as PNG…", self.export_lattice),
            ("samples", "Prior Sam&ples as PNG…", self.export_samples),
            None,
            ("interpolation_strip", "&Interpolation Strip as PNG…", self.export_interpolation_strip),
            ("interpolation_animation", "Interpolation &Animation (GIF, MP4)…", self.export_interpolation_animation),
            None,
            ("sweep_strip", "Attribute S&weep Strip as PNG…", self.export_sweep_strip),
            ("sweep_animation", "Attribute Sweep Animati&on (GIF, MP4)…", self.export_sweep_animation),
            None,
            ("sites", "Lattice Si&tes (CSV)…", self.export_sites),
            ("codes", "Latent &Codes (CSV/NPY)…", self.export_codes),
            ("history", "Loss &History (CSV)…", self.export_history),
        )
        self.actions: dict[str, QAction] = {}
        self._layout = []
        for item in spec:
            if item is None:
                self._layout.append(None)
                continue
            key, text, slot = item
            act = QAction(text, self)
            act.setObjectName(f"export_{key}")
            act.triggered.connect(lambda _=False, s=slot: s())
            self.actions[key] = act
            self._layout.append(act)
        lattice.export_button.clicked.connect(lambda: self.export_lattice() if lattice.page == "lattice"
                                              else self.export_samples())
        lattice.sites_button.clicked.connect(lambda: self.export_sites())
        mixer.export_strip_button.clicked.connect(lambda: self.export_sweep_strip())
        mixer.export_anim_button.clicked.connect(lambda: self.export_sweep_animation())
        interpolation.export_strip_button.clicked.connect(lambda: self.export_interpolation_strip())
        interpolation.export_anim_button.clicked.connect(lambda: self.export_interpolation_animation())
        explorer.view_changed.connect(self._update_enabled)
        explorer.decoder_changed.connect(self._update_enabled)
        self._update_enabled()

    def add_to_menu(self, menu: QMenu) -> None:
        for act in self._layout:
            if act is None:
                menu.addSeparator()
            else:
                menu.addAction(act)

    @property
    def busy(self) -> bool:
        return self.task is not None

    # ===================================================================== PNG
    def export_scatter(self, path: Optional[str] = None) -> bool:
        e = self.explorer
        path = path or self._ask_png("Export the latent scatter", "latent-scatter")
        if not path or not e.ready:
            return False
        keep = self._visible_rows()
        points, labels = e.points[keep], None if e.encodings.labels is None else e.encodings.labels[keep]
        names, axes = e.encodings.label_names, e.projection.axis_labels()
        circles, captions = ([] if e.on_map else [e.circle]), []  # a map has no circle: the canvas draws none
        if e.sphere_circle is not None and not e.on_map:  # as `vaestudio scatter` draws them
            circles.append(e.sphere_circle)
            captions = [f"view {e.coverage:.0%}", f"{e.encodings.dim}-D sphere {e.coverage:.0%}"]
        lat = e.lattice_overlay
        polygons = [] if lat is None or e.on_map else [lattice_square(lat)[:-1]]

        def work(progress, cancel):
            progress(0, 0, "Drawing the scatter...")
            save_image(scatter_plot(points, labels, names, circles=circles, circle_labels=captions,
                                    polygons=polygons, axis_labels=axes), path)
            return path, None
        return self._run("Exporting the latent scatter", work, "image")

    def export_lattice(self, path: Optional[str] = None) -> bool:
        lat = self.lattice.lattice
        path = path or self._ask_png("Export the lattice", f"lattice-{self.lattice.n}x{self.lattice.n}")
        if not path or lat is None:
            return False
        return self._grid_png("Exporting the lattice", lat.latents, lat.n, path, auto_scale(self._shape(), 48))

    def export_samples(self, path: Optional[str] = None) -> bool:
        z = self.lattice.sample_latents()
        path = path or self._ask_png("Export prior samples", "prior-samples")
        if not path or z is None:
            return False
        return self._grid_png("Exporting prior samples", z, self.lattice.n, path, auto_scale(self._shape(), 48))

    def export_interpolation_strip(self, path: Optional[str] = None) -> bool:
        p = self.interpolation
        return self._strip_png("the interpolation", "interpolation", p.steps.value(), p.path_latents,
                               p.path_labels, path)

    def export_sweep_strip(self, path: Optional[str] = None) -> bool:
        m = self.mixer
        return self._strip_png("the attribute sweep", "attribute-sweep", m.steps.value(), m.sweep_latents,
                               m.sweep_labels, path)

    # ===================================================================== tables
    def export_sites(self, path: Optional[str] = None) -> bool:
        """Every site of the lattice on show: row, col, view point and latent vector (as `--sites-out`)."""
        lat = self.lattice.lattice
        path = path or self._ask_table("Export the lattice sites", f"lattice-sites-{self.lattice.n}x{self.lattice.n}")
        if not path or lat is None:
            return False

        def work(progress, cancel):
            progress(0, 0, "Writing the sites...")
            write_sites_csv(lat, path)
            return path, None
        return self._run("Exporting the lattice sites", work, "table")

    def export_codes(self, path: Optional[str] = None) -> bool:
        """The explored split's codes with labels and attributes (.csv) or alone (.npy), by suffix."""
        enc = self.explorer.encodings
        path = path or self._ask_table("Export the latent codes", f"latent-codes-{self.explorer.split_name}",
                                       dialogs.CODES_FILTER)
        if not path or enc is None:
            return False

        def work(progress, cancel):
            progress(0, 0, f"Writing {len(enc):,} codes...")
            enc.save(path)
            return path, None
        return self._run("Exporting the latent codes", work, "table")

    def export_history(self, path: Optional[str] = None) -> bool:
        """The run's loss history, one row per finished epoch (as `vaestudio info --history-csv`)."""
        run = self.explorer.session.run
        if run is None or not run.history:
            self._status("The model has no finished epoch to export yet")
            return False
        history, names = [dict(r) for r in run.history], run_dataset_names(run)  # a copy: training appends
        path = path or self._ask_table("Export the loss history", "loss-history")
        if not path:
            return False

        def work(progress, cancel):
            progress(0, 0, "Writing the history...")
            write_history_csv(path, history, names)
            return path, None
        return self._run("Exporting the loss history", work, "table")

    # ===================================================================== animations
    def export_interpolation_animation(self, options: Optional[export_dialog.AnimationOptions] = None) -> bool:
        steps = self.interpolation.steps
        options = options or self._ask_animation("Export the interpolation", "interpolation", steps.value())
        if options is None:
            return False
        self._follow(steps, options.frames)
        z = self.interpolation.path_latents(options.frames)
        return z is not None and self._animation("Writing the interpolation", z, options)

    def export_sweep_animation(self, options: Optional[export_dialog.AnimationOptions] = None) -> bool:
        steps = self.mixer.steps
        options = options or self._ask_animation("Export the attribute sweep", "attribute-sweep", steps.value())
        if options is None:
            return False
        self._follow(steps, options.frames)
        z = self.mixer.sweep_latents(options.frames)
        return z is not None and self._animation("Writing the attribute sweep", z, options)

    # ===================================================================== internals
    def _follow(self, steps, frames: int) -> None:
        """The panel's steps become the frame count exported; beyond its range the status says so."""
        steps.setValue(frames)
        self._note = "" if steps.value() == frames else f"; the panel shows at most {steps.maximum()} steps"

    def _strip_png(self, what: str, stem: str, steps: int, latents, labels, path: Optional[str]) -> bool:
        z = latents(steps)
        path = path or self._ask_png(f"Export {what}", stem)
        if not path or z is None:
            return False
        return self._grid_png(f"Exporting {what}", z, None, path, auto_scale(self._shape()), labels(steps))

    def _grid_png(self, title: str, z, ncols, path: str, scale: int, labels=None) -> bool:
        model = self.explorer.model

        def work(progress, cancel):
            images = decode_chunks(model, z, progress, cancel)
            progress(0, 0, "Writing the PNG...")
            save_image(image_grid(images, ncols=ncols or len(images), labels=labels, scale=scale, padding=1), path)
            return path, None
        return self._run(title, work, "image")

    def _animation(self, title: str, z, options: export_dialog.AnimationOptions) -> bool:
        model = self.explorer.model

        def work(progress, cancel):
            images = decode_chunks(model, z, progress, cancel)
            progress(0, 0, f"Writing {Path(options.path).name}...")
            info = save_frames(images, options.path, fps=1000.0 / options.frame_ms, loop=options.loop,
                               scale=options.scale)
            return options.path, info
        return self._run(title, work, "animation")

    def _run(self, title: str, fn: Callable, kind: str) -> bool:
        if self.task is not None or self.explorer.model is None:
            self._status("Another export is still running" if self.task is not None else "No model to export")
            self._note = ""
            return False
        task = ProgressTask(self.parent_widget, title, fn)
        task.succeeded.connect(self._on_succeeded)
        task.failed.connect(self._on_failed)
        task.ended.connect(self._on_ended)
        self.task, self._kind = task, kind
        task.start()
        return True

    @Slot(object)
    def _on_succeeded(self, result) -> None:
        path, info = result
        self.settings.set_export_folder(self._kind, Path(path).parent)
        self.settings.sync()  # another window, or the next session, opens its chooser there
        what = f"{info.n_frames} frames, " if info is not None and info.n_frames else ""
        note, self._note = self._note, ""
        self._status(f"Exported {path} ({what}{Path(path).stat().st_size / 1024:.0f} KB){note}")
        self.exported.emit(path, info)

    def _status(self, text: str) -> None:
        status = getattr(self.parent_widget, "statusBar", None)
        if status is not None:
            status().showMessage(text, 6000)

    @Slot(object, str, str)
    def _on_failed(self, exc, message: str, details: str) -> None:
        self.last_error = message
        dialogs.show_error(self.parent_widget, "Export failed", message, details)

    @Slot()
    def _on_ended(self) -> None:
        self.task, self._note = None, ""

    def folder(self, kind: str) -> str:
        """Where the chooser for `kind` opens: its last export's folder, else the home folder."""
        return self.settings.export_folder(kind) or str(Path.home())

    def _ask_png(self, title: str, stem: str) -> str:
        return export_dialog.choose_png_path(self.parent_widget, title,
                                             export_dialog.suggested_path(self.folder("image"), stem, ".png"))

    def _ask_table(self, title: str, stem: str, filter_: str = dialogs.CSV_FILTER) -> str:
        return dialogs.choose_save_file(self.parent_widget, title,
                                        export_dialog.suggested_path(self.folder("table"), stem, ".csv"), filter_)

    def _ask_animation(self, title: str, stem: str, steps: int):
        return export_dialog.ask_animation_options(
            self.parent_widget, title, export_dialog.suggested_path(self.folder("animation"), stem, ".gif"),
            frames=steps, scale=auto_scale(self._shape(), 128))

    def _shape(self):
        m = self.explorer.model
        return m.config.image_shape if m is not None else (1, 28, 28)

    def _visible_rows(self) -> np.ndarray:
        e = self.explorer
        visible = self.canvas.visible_classes()
        if e.encodings.labels is None or not visible:
            return np.arange(len(e.points))
        shown = np.flatnonzero(visible)
        return np.flatnonzero(np.isin(e.encodings.labels, shown))

    @Slot()
    def _update_enabled(self) -> None:
        ready = self.explorer.ready and self.explorer.model is not None
        has_model = self.explorer.model is not None
        for key, act in self.actions.items():
            act.setEnabled(has_model if key in ("samples", "history") else ready)
