"""The lattice panel: the n x n lattice inscribed in the circle, decoded into a grid (the blog's
"fake digits"), and a grid of samples from the prior N(0, I).

Grids decode in the explorer's worker, latest request wins, whenever the snapshot, the view's
plane or n changes. While the panel is on screen the canvas draws the lattice's sites.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSpinBox, QTabBar, QToolButton, QVBoxLayout, QWidget)

from ...core.kinds import PRIOR, kind_of
from ...core.latent import Lattice, latent_lattice, sample_prior
from .explorer import Explorer
from .grids import decode_grid
from .image_view import ImageView
from .panel import Panel
from .preview import caption_label


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


DEFAULT_N = 15
PAGES = ("lattice", "samples")


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
        layout.addLayout(row)

        self.grid_view = ImageView("Train or open a model to see its lattice", min_side=120)
        self.grid_view.setObjectName("latticeGrid")
        layout.addWidget(self.grid_view, 1)
        self.caption = caption_label()
        layout.addWidget(self.caption)
        self._on_page(0)

        explorer.view_changed.connect(self._on_plane)
        explorer.decoder_changed.connect(self._on_decoder)
        explorer.runner.finished.connect(self._on_job)
        self._on_plane()

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

    # -- reactions ------------------------------------------------------------------------
    def on_screen_changed(self) -> None:
        self._sync_overlay()
        self._refresh()

    @Slot()
    def _on_plane(self) -> None:
        e = self.explorer
        self.lattice = latent_lattice(e.encodings.codes, self.n, e.projection, e.coverage) if e.ready else None
        self._sync_overlay()
        self._mark_dirty("lattice")

    @Slot()
    def _on_decoder(self) -> None:
        self._mark_dirty("lattice", "samples")

    @Slot(int)
    def _on_n(self, _n: int) -> None:
        self._on_plane()
        self._mark_dirty("samples")

    @Slot(int)
    def _on_page(self, _i: int) -> None:
        self.resample_button.setVisible(self.page == "samples")
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
        self.grid_view.set_image(self._grids.get(page))
        e = self.explorer
        if page == "lattice" and self.lattice is not None:
            x, y = self.lattice.projection.axis_labels()
            self.caption.setText(f"{self.n}×{self.n} lattice in the circle holding {e.coverage:.0%} of the codes, "
                                 f"on the plane ({x}, {y})")
        elif page == "samples" and self.has_prior():
            self.caption.setText(f"{self.n * self.n} samples from the prior N(0, I), seed {self.seed}")
        elif page == "samples" and e.model is not None:
            self.caption.setText(f"{_sentence(kind_of(e.model.config).a_title())} has no prior to sample from: decoding "
                                 f"N(0, I) draws would show nothing it learned. The lattice decodes its codes.")
        else:
            self.caption.setText("")

    def _sync_overlay(self) -> None:
        self.explorer.set_lattice_overlay(self.lattice if self.on_screen else None)
