"""The lattice panel: the n x n lattice inscribed in (or circumscribed about) the circle, decoded
into a grid (the blog's "fake digits"), and a grid of samples from the prior N(0, I).

Grids decode in the explorer's worker, latest request wins, whenever the snapshot, the view's
plane, n or the lattice's extent, centre or circle changes. While the panel is on screen the
canvas draws the lattice's sites. A double-click on the grid (or Enlarge) opens it in a zoomable
window that follows the grid while it is open.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSpinBox, QTabBar, QToolButton, QVBoxLayout,
                               QWidget)

from ...core.kinds import PRIOR, kind_of
from ...core.latent import Lattice, latent_lattice, sample_prior
from .explorer import Explorer
from .grids import decode_grid
from .image_view import ImageView
from .panel import Panel
from .preview import caption_label
from .zoom_view import ZoomDialog


def on_map(explorer) -> bool:
    """The canvas shows a t-SNE or UMAP map, which has no inverse: a grid on it decodes to nothing."""
    return bool(getattr(explorer, "on_map", False))


def no_lattice_text(explorer) -> str:
    title = getattr(explorer.projection, "title", "t-SNE/UMAP")
    return (f"No lattice on a {title} map: it has no inverse, so a grid of map points stands for no codes. "
            "Choose a coordinate pair or PCA on the canvas for a lattice.")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


DEFAULT_N = 15
PAGES = ("lattice", "samples")
EXTENT_CHOICES = (("inscribed", "Inscribed", "The square's corners lie on the circle"),
                  ("circumscribed", "Circumscribed", "The square's sides touch the circle"))
CENTRE_CHOICES = (("mean", "At mean", "Centred on the codes' mean"),
                  ("origin", "At origin", "Centred on z = 0 (every coordinate off the plane 0 too)"))
CIRCLE_CHOICES = (("view", "View circle", "The view's own circle holding the codes"),
                  ("sphere", "Sphere circle", "The great circle of the D-sphere holding the codes (much wider)"))


def _combo(choices) -> QComboBox:
    combo = QComboBox()
    for i, (key, text, tip) in enumerate(choices):
        combo.addItem(text, key)
        combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
    return combo


class LatticePanel(Panel):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.lattice: Optional[Lattice] = None
        self.images: dict[str, Optional[np.ndarray]] = {p: None for p in PAGES}  # decoded tiles per page
        self._grids: dict[str, Optional[np.ndarray]] = {p: None for p in PAGES}  # the pictures shown
        self.seed = 0
        self._dirty = {p: True for p in PAGES}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        self.tabs = QTabBar()
        self.tabs.setDocumentMode(True)
        self.tabs.setExpanding(False)
        self.tabs.addTab("Lattice")
        self.tabs.addTab("Prior samples")
        self.tabs.currentChanged.connect(self._on_page)
        layout.addWidget(self.tabs)

        layout.addLayout(self._make_size_row())
        layout.addWidget(self._make_shape_row())
        self.grid_view = ImageView("Train or open a model to see its lattice", min_side=120)
        self.grid_view.setObjectName("latticeGrid")
        self.grid_view.setToolTip("Double-click to enlarge")
        self.grid_view.double_clicked.connect(self.enlarge)
        layout.addWidget(self.grid_view, 1)
        self.zoom: Optional[ZoomDialog] = None
        self.caption = caption_label()
        layout.addWidget(self.caption)
        layout.addLayout(self._make_button_row())
        self._on_page(0)

        explorer.view_changed.connect(self._on_plane)
        explorer.decoder_changed.connect(self._on_decoder)
        explorer.runner.finished.connect(self._on_job)
        self._on_plane()

    # -- construction -------------------------------------------------------------------
    def _make_size_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Size"))
        self.n_spin = QSpinBox()
        self.n_spin.setRange(2, 40)
        self.n_spin.setValue(DEFAULT_N)
        self.n_spin.setSuffix(" per side")
        self.n_spin.setToolTip("Sites (or samples) per side of the grid")
        self.n_spin.valueChanged.connect(self._on_n)
        row.addWidget(self.n_spin)
        self.resample_button = QToolButton()
        self.resample_button.setText("Resample")
        self.resample_button.setToolTip("Draw new samples from the prior")
        self.resample_button.clicked.connect(self.resample)
        row.addWidget(self.resample_button)
        row.addStretch(1)
        self.export_button = QToolButton()
        self.export_button.setText("Export PNG…")
        row.addWidget(self.export_button)
        return row

    def _make_shape_row(self) -> QWidget:
        """Extent, circle and centre of the lattice (shown on the lattice page only)."""
        self.lattice_controls = QWidget()
        row = QHBoxLayout(self.lattice_controls)
        row.setContentsMargins(0, 0, 0, 0)
        self.extent_combo = _combo(EXTENT_CHOICES)
        self.extent_combo.setToolTip("Inscribed: corners on the circle; circumscribed: sides touching it")
        self.circle_combo = _combo(CIRCLE_CHOICES)
        self.circle_combo.setToolTip("For more than 2 latent dimensions: the view's circle or the D-sphere's")
        self.centre_combo = _combo(CENTRE_CHOICES)
        self.centre_combo.setToolTip("Where the square is centred")
        for combo in (self.extent_combo, self.circle_combo, self.centre_combo):
            row.addWidget(combo)
            combo.currentIndexChanged.connect(self._on_shape)
        row.addStretch(1)
        return self.lattice_controls

    def _make_button_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        self.enlarge_button = QToolButton()
        self.enlarge_button.setText("Enlarge…")
        self.enlarge_button.setToolTip("Open the grid in a zoomable window (or double-click the grid)")
        self.enlarge_button.clicked.connect(self.enlarge)
        row.addWidget(self.enlarge_button)
        self.sites_button = QToolButton()
        self.sites_button.setText("Sites CSV…")
        self.sites_button.setToolTip("Export every site's row, column, view point and latent vector as CSV")
        row.addWidget(self.sites_button)
        return row

    # -- public ---------------------------------------------------------------------------
    @property
    def page(self) -> str:
        return PAGES[self.tabs.currentIndex()]

    @property
    def n(self) -> int:
        return self.n_spin.value()

    def sample_latents(self) -> Optional[np.ndarray]:
        """The prior samples on show (the same ones until Resample)."""
        d = self.explorer.latent_dim
        return sample_prior(self.n * self.n, d, seed=self.seed) if d else None

    def has_prior(self) -> bool:
        m = self.explorer.model
        return m is not None and kind_of(m.config).has(PRIOR)

    def resample(self) -> None:
        self.seed += 1
        self._mark_dirty("samples")

    def lattice_options(self) -> dict:
        """The extent, centre and circle chosen, as `latent_lattice` takes them."""
        return {"extent": self.extent_combo.currentData(), "centre": self.centre_combo.currentData(),
                "circle": self.circle_combo.currentData()}

    def enlarge(self) -> Optional[ZoomDialog]:
        """Open (or raise) the zoomable window with the grid on show; None when there is none yet."""
        grid = self._grids.get(self.page)
        if grid is None:
            return None
        if self.zoom is None:
            self.zoom = ZoomDialog(self._zoom_title(), grid, self.caption.text(), self)
            self.zoom.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.zoom.finished.connect(self._on_zoom_closed)
        else:
            self.zoom.set_image(grid, self.caption.text())
            self.zoom.setWindowTitle(self._zoom_title())
        self.zoom.show()
        self.zoom.raise_()
        return self.zoom

    # -- reactions ------------------------------------------------------------------------
    def on_screen_changed(self) -> None:
        self._sync_overlay()
        self._refresh()

    @Slot()
    def _on_plane(self) -> None:
        e = self.explorer
        self.circle_combo.setEnabled(e.ready and e.encodings.dim > 2)
        self.lattice = latent_lattice(e.encodings.codes, self.n, e.projection, e.coverage, **self.lattice_options(),
                                      circles=(e.circle, e.sphere_circle)) if e.ready and not on_map(e) else None
        self._sync_overlay()
        self._show()  # the caption says at once what the new grid will be
        self._mark_dirty("lattice")

    @Slot()
    def _on_decoder(self) -> None:
        self._mark_dirty("lattice", "samples")

    @Slot(int)
    def _on_n(self, _n: int) -> None:
        self._on_plane()
        self._mark_dirty("samples")

    @Slot(int)
    def _on_shape(self, _i: int) -> None:
        self._on_plane()

    @Slot(int)
    def _on_zoom_closed(self, _result: int) -> None:
        self.zoom = None

    @Slot(int)
    def _on_page(self, _i: int) -> None:
        self.resample_button.setVisible(self.page == "samples")
        self.lattice_controls.setVisible(self.page == "lattice")
        self.sites_button.setVisible(self.page == "lattice")
        self._show()
        self._refresh()

    @Slot(str, object)
    def _on_job(self, key: str, result) -> None:
        if key not in PAGES or result is None:
            return
        self.images[key], grid = result
        self._grids[key] = grid
        self._show()

    # -- internals ------------------------------------------------------------------------
    def _mark_dirty(self, *pages: str) -> None:
        for p in pages:
            self._dirty[p] = True
        self._refresh()

    def _refresh(self) -> None:
        """Decode the page on show if it is out of date (hidden panels decode nothing)."""
        page = self.page
        if not self.on_screen or not self._dirty[page]:
            return
        e = self.explorer
        z = self.lattice.latents if page == "lattice" and self.lattice is not None else (
            self.sample_latents() if page == "samples" and self.has_prior() else None)
        if z is None:
            self.explorer.runner.discard(page)
            self.images[page] = None
            self._grids[page] = None
            self._show()
            return
        self._dirty[page] = False
        model, n = e.model, self.n
        e.runner.submit(page, lambda cancel: decode_grid(model, z, n, cancel=cancel))

    def _show(self) -> None:
        page = self.page
        self.grid_view.placeholder = ("Train or open a model to see its lattice" if page == "lattice"
                                      else "Train or open a model to see samples from its prior")
        if page == "lattice" and on_map(self.explorer):
            self.grid_view.placeholder = f"No lattice on a {self.explorer.projection.title} map"
        self.grid_view.set_image(self._grids.get(page))
        e = self.explorer
        if page == "lattice" and self.lattice is not None:
            x, y = self.lattice.projection.axis_labels()
            self.caption.setText(f"{self.n}×{self.n} lattice {self.lattice.placement()}, on the plane ({x}, {y})")
        elif page == "lattice" and on_map(e):
            self.caption.setText(no_lattice_text(e))
        elif page == "samples" and self.has_prior():
            self.caption.setText(f"{self.n * self.n} samples from the prior N(0, I), seed {self.seed}")
        elif page == "samples" and e.model is not None:
            self.caption.setText(f"{_sentence(kind_of(e.model.config).a_title())} has no prior to sample from: decoding "
                                 f"N(0, I) draws would show nothing it learned. The lattice decodes its codes.")
        else:
            self.caption.setText("")
        if self.zoom is not None:
            self.zoom.set_image(self._grids.get(page), self.caption.text())
            self.zoom.setWindowTitle(self._zoom_title())

    def _zoom_title(self) -> str:
        return "Lattice" if self.page == "lattice" else "Prior samples"

    def _sync_overlay(self) -> None:
        self.explorer.set_lattice_overlay(self.lattice if self.on_screen else None)
