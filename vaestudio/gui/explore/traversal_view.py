"""The Traversal dock: one row per latent dimension, that coordinate swept from -range to +range
around a base code (the chosen pin, an image's code or the codes' mean) with the others held,
to see what each dimension controls -- the window view of `vaestudio traverse`.

The rows are the top N dimensions by KL (by variance for a kind without a posterior) or a typed
list. Decoding runs in the explorer's worker (key "traversal", latest request wins) and only
while the dock is on screen; the picture is `core.latent.traversal.traversal_picture` at the
CLI's scale, so "Save PNG…" writes the same picture `vaestudio traverse` would.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from ...core.latent import decode_batch
from ...core.latent.traversal import DEFAULT_DIMS, default_dims, dimension_scores, traversal_latents, traversal_picture
from ...core.render import auto_scale, save_image
from .. import dialogs
from .explorer import Explorer, pin_name
from .image_view import ImageView
from .panel import Panel
from .preview import caption_label
from .zoom_view import ZoomDialog

KEY = "traversal"
MAX_ROWS = 64  # as `vaestudio traverse`
MAX_STEPS = 31
DEFAULT_SPAN = 3.0
DEFAULT_STEPS = 9
TILE_TARGET = 56  # the CLI's auto scale: tiles at least this many pixels
ROW_CHOICES = (("top", "Top N by KL"), ("list", "Dimensions"))
BASE_CHOICES = (("pin", "Chosen pin"),  # the mean until a point is pinned
                ("image", "Image"), ("mean", "Mean"))


def parse_dims(text: str, dim: int) -> list[int]:
    """"0 3, 5" -> [0, 3, 5] (order kept, repeats dropped); ValueError naming what is wrong."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts:
        raise ValueError("type the dimensions to traverse, e.g. 0 3 5")
    out: list[int] = []
    for p in parts:
        if not re.fullmatch(r"\d{1,4}", p):
            raise ValueError(f"{p!r} is not a dimension number")
        d = int(p)
        if d >= dim:
            raise ValueError(f"dimension {d} is out of range: the latent has {dim} (0..{dim - 1})")
        if d not in out:
            out.append(d)
    if len(out) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} dimensions fit one picture")
    return out


class TraversalPanel(Panel):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.pin_index: Callable[[], int] = lambda: -1  # the chosen pin (the decoder panel's); -1: the newest
        self.dims: list[int] = []  # the rows of the grid on show (or being decoded)
        self.images: Optional[np.ndarray] = None  # (rows * steps, C, H, W) decoded
        self.picture = None  # PIL image: what Save PNG writes
        self.latents: Optional[np.ndarray] = None  # the codes decoded
        self.problem = ""  # why there is no grid
        self._dirty = True

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        row = QHBoxLayout()
        self.rows_combo = QComboBox()
        for key, text in ROW_CHOICES:
            self.rows_combo.addItem(text, key)
        self.rows_combo.setToolTip("The dimensions with the most KL (variance for a kind without a posterior), "
                                   "or the ones you type")
        self.n_spin = QSpinBox()
        self.n_spin.setRange(1, MAX_ROWS)
        self.n_spin.setValue(DEFAULT_DIMS)
        self.n_spin.setToolTip("How many dimensions (rows), highest KL first")
        self.dims_edit = QLineEdit()
        self.dims_edit.setPlaceholderText("e.g. 0 3 5")
        self.dims_edit.setToolTip(f"Dimension numbers separated by spaces or commas, at most {MAX_ROWS}")
        row.addWidget(self.rows_combo)
        row.addWidget(self.n_spin)
        row.addWidget(self.dims_edit, 1)
        layout.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Around"))
        self.base_combo = QComboBox()
        for key, text in BASE_CHOICES:
            self.base_combo.addItem(text, key)
        self.base_combo.setToolTip("The code every row starts from: the pin shown in the decoder, an image of "
                                   "the explored split, or the mean of its codes")
        self.image_spin = QSpinBox()
        self.image_spin.setRange(0, 0)
        self.image_spin.setPrefix("#")
        self.image_spin.setToolTip("The image of the explored split whose code is the base")
        row.addWidget(self.base_combo)
        row.addWidget(self.image_spin)
        row.addStretch(1)
        layout.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("±"))
        self.span_spin = QDoubleSpinBox()
        self.span_spin.setRange(0.1, 20.0)
        self.span_spin.setSingleStep(0.5)
        self.span_spin.setValue(DEFAULT_SPAN)
        self.span_spin.setToolTip("How far each coordinate moves either side of the base")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(2, MAX_STEPS)
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.steps_spin.setSuffix(" steps")
        self.steps_spin.setToolTip("Columns per row (odd: the middle one is the base itself)")
        row.addWidget(self.span_spin)
        row.addWidget(self.steps_spin)
        row.addStretch(1)
        layout.addLayout(row)

        self.grid_view = ImageView("Train or open a model to traverse its dimensions", min_side=120)
        self.grid_view.setObjectName("traversalGrid")
        self.grid_view.setToolTip("Double-click to enlarge")
        self.grid_view.double_clicked.connect(self.enlarge)
        layout.addWidget(self.grid_view, 1)
        self.caption = caption_label()
        self.caption.setObjectName("traversalCaption")
        layout.addWidget(self.caption)
        row = QHBoxLayout()
        row.addStretch(1)
        self.enlarge_button = QToolButton()
        self.enlarge_button.setText("Enlarge…")
        self.enlarge_button.setToolTip("Open the grid in a zoomable window (or double-click it)")
        self.enlarge_button.clicked.connect(self.enlarge)
        row.addWidget(self.enlarge_button)
        self.save_button = QToolButton()
        self.save_button.setText("Save PNG…")
        self.save_button.setToolTip("Write this picture (as `vaestudio traverse` draws it)")
        self.save_button.clicked.connect(self.save_png)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        self.zoom: Optional[ZoomDialog] = None

        for w in (self.rows_combo, self.base_combo):
            w.currentIndexChanged.connect(self._on_controls)
        for w in (self.n_spin, self.image_spin, self.steps_spin):
            w.valueChanged.connect(self._on_controls)
        self.span_spin.valueChanged.connect(self._on_controls)
        self.dims_edit.editingFinished.connect(self._on_controls)
        explorer.decoder_changed.connect(self.invalidate)
        explorer.encodings_changed.connect(self._on_encodings)
        explorer.pins_changed.connect(self._on_pins)
        explorer.runner.finished.connect(self._on_job)
        explorer.runner.failed.connect(self._on_failed)
        self._sync_controls()
        self._on_encodings()

    # -- what tests and the window ask ----------------------------------------------------------
    @property
    def steps(self) -> int:
        return self.steps_spin.value()

    @property
    def span(self) -> float:
        return float(self.span_spin.value())

    def requested_dims(self) -> list[int]:
        """The rows asked for; ValueError when the typed list is wrong or there are no encodings."""
        enc = self.explorer.encodings
        if enc is None:
            raise ValueError("no encodings yet")
        if self.rows_combo.currentData() == "list":
            return parse_dims(self.dims_edit.text(), enc.dim)
        return default_dims(enc, limit=self.n_spin.value())

    def base(self) -> tuple[np.ndarray, str]:
        """(the base code, how the caption names it); ValueError when there is none."""
        e, key = self.explorer, self.base_combo.currentData()
        enc = e.encodings
        if enc is None:
            raise ValueError("no encodings yet")
        if key == "pin" and e.pins:
            i = self.pin_index()
            i = i if 0 <= i < len(e.pins) else len(e.pins) - 1
            return np.asarray(e.pins[i].z, dtype=np.float32), f"pin {pin_name(i)}"
        if key == "image":
            i = self.image_spin.value()
            if not 0 <= i < len(enc):
                raise ValueError(f"image {i} is not in the split")
            return np.asarray(enc.codes[i], dtype=np.float32), f"{e.split_name} image #{i}"
        note = " (no pin yet)" if key == "pin" else ""
        return np.asarray(enc.centre, dtype=np.float32), f"the mean of {len(enc):,} {e.split_name} codes{note}"

    def set_dims(self, dims) -> None:
        """Traverse exactly `dims` (the typed-list mode)."""
        self.dims_edit.setText(" ".join(str(int(d)) for d in dims))
        self.rows_combo.setCurrentIndex(self.rows_combo.findData("list"))
        self._on_controls()

    @Slot()
    def invalidate(self) -> None:
        self._dirty = True
        self._refresh()

    def enlarge(self) -> Optional[ZoomDialog]:
        """Open (or raise) a zoomable window with the picture; it follows the grid while open."""
        if self.picture is None:
            return None
        if self.zoom is None:
            self.zoom = ZoomDialog("Traversal", np.asarray(self.picture), self.caption.text(), self)
            self.zoom.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.zoom.finished.connect(self._on_zoom_closed)
        self.zoom.show()
        self.zoom.raise_()
        return self.zoom

    @Slot(int)
    def _on_zoom_closed(self, _result: int) -> None:
        self.zoom = None

    def save_png(self, path: Optional[str] = None) -> bool:
        """Write the picture on show; a dialog names the file and the problem when that fails."""
        if self.picture is None:
            return False
        if not path:
            from .export_dialog import choose_png_path

            dims = "-".join(str(d) for d in self.dims[:6])
            path = choose_png_path(self, "Save the traversal", f"traverse-{dims}.png")
        if not path:
            return False
        try:
            save_image(self.picture, path)
        except Exception as e:  # noqa: BLE001 - shown to the user, the panel keeps its picture
            dialogs.show_error(self, "Saving the traversal failed", f"Could not write {path}: {e}")
            return False
        return True

    # -- reactions ---------------------------------------------------------------------------------
    def on_screen_changed(self) -> None:
        self._refresh()

    @Slot()
    def _on_encodings(self) -> None:
        enc = self.explorer.encodings
        self.image_spin.setRange(0, max(len(enc) - 1, 0) if enc is not None else 0)
        self.n_spin.setMaximum(min(MAX_ROWS, enc.dim) if enc is not None and enc.dim else MAX_ROWS)
        self.invalidate()

    @Slot()
    def _on_pins(self) -> None:
        if self.base_combo.currentData() == "pin":
            self.invalidate()

    def _on_controls(self, *_) -> None:
        self._sync_controls()
        self.invalidate()

    def _sync_controls(self) -> None:
        listed = self.rows_combo.currentData() == "list"
        self.n_spin.setVisible(not listed)
        self.dims_edit.setVisible(listed)
        self.image_spin.setVisible(self.base_combo.currentData() == "image")

    @Slot(str, object)
    def _on_job(self, key: str, result) -> None:
        if key != KEY or result is None:
            return
        self.images, self.picture, self.latents = result
        self.grid_view.set_image(np.asarray(self.picture))
        self.save_button.setEnabled(True)
        self.enlarge_button.setEnabled(True)
        if self.zoom is not None:
            self.zoom.set_image(np.asarray(self.picture), self.caption.text())

    @Slot(str, str)
    def _on_failed(self, key: str, message: str) -> None:
        if key == KEY:
            self._show_problem(f"Decoding the traversal failed: {message}")

    # -- internals -------------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Decode the traversal asked for, if it is out of date and on screen."""
        if not self._dirty or not self.on_screen:
            return
        self._dirty = False
        e = self.explorer
        if e.model is None or e.encodings is None:
            self.explorer.runner.discard(KEY)
            self._show_problem("Train or open a model to traverse its dimensions")
            return
        try:
            dims = self.requested_dims()
            base, around = self.base()
        except ValueError as err:
            self.explorer.runner.discard(KEY)
            self._show_problem(str(err)[:1].upper() + str(err)[1:])
            return
        steps, span, model = self.steps, self.span, e.model
        kl = dimension_scores(e.encodings)[0]
        scale = auto_scale(model.config.image_shape, TILE_TARGET)
        z = traversal_latents(base, dims, steps, span)
        self.dims, self.problem = dims, ""
        what = "KL" if kl is not None else "variance"
        self.caption.setText(f"{len(dims)} dimension{'' if len(dims) == 1 else 's'} × {steps} steps, "
                             f"±{span:g} around {around}; rows by {what}")

        def job(cancel):
            images = decode_batch(model, z)
            if cancel():
                return None
            return images, traversal_picture(images, dims, steps, kl=kl, scale=scale), z

        e.runner.submit(KEY, job)

    def _show_problem(self, text: str) -> None:
        self.problem = text
        self.images = self.picture = self.latents = None
        self.dims = []
        self.grid_view.set_image(None)
        self.grid_view.placeholder = text
        self.caption.setText("")
        self.save_button.setEnabled(False)
        self.enlarge_button.setEnabled(False)
