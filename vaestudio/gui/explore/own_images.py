"""The pictures the user brought (dropped on the window, or File > Encode Images...).

Each is converted once to the model's images (`core.latent.own_images`) and encoded with the
explorer's snapshot in the GUI thread (a few ms for a handful through an MLP or conv encoder);
after every new snapshot they are encoded again, so their marks follow the model as it trains.
A model that takes images of another shape (or no model) forgets them. Panels read
`explorer.own_images` and listen to `changed`.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from ...core.errors import VaeStudioError
from ...core.latent.own_images import MAX_OWN_IMAGES, PREVIEW_SIDE, OwnImage, encode_own_images, load_own_image

MAX_KEPT = 64  # pictures kept at once; the oldest go first


class OwnImages(QObject):
    changed = Signal()  # pictures added or forgotten, their codes re-encoded, or `current` moved

    def __init__(self, explorer):
        super().__init__(explorer)
        self.explorer = explorer
        self.items: list[OwnImage] = []
        self.codes: Optional[np.ndarray] = None  # float32 (N, D), row i is items[i]
        self.logvar: Optional[np.ndarray] = None
        self.current = -1  # the picture the decoder preview shows
        explorer.decoder_changed.connect(self._on_decoder)

    def __len__(self) -> int:
        return len(self.items)

    # -- what panels ask ----------------------------------------------------------------
    def index_of(self, item: Optional[OwnImage]) -> int:
        return next((i for i, it in enumerate(self.items) if it is item), -1)

    def code_of(self, item: Optional[OwnImage]) -> Optional[np.ndarray]:
        """The picture's current code (D,), or None once it is forgotten."""
        i = self.index_of(item)
        return None if i < 0 or self.codes is None else self.codes[i]

    def view_points(self) -> Optional[np.ndarray]:
        """(N, 2) places of the codes in the explorer's view, or None without a view."""
        proj = self.explorer.projection
        if proj is None or self.codes is None or not len(self.items):
            return None
        return np.asarray(proj.to_view(self.codes), dtype=np.float64).reshape(-1, 2)

    # -- changes --------------------------------------------------------------------------
    def add_files(self, paths: Sequence[str]) -> tuple[list[OwnImage], list[str]]:
        """Convert and encode each file: (the pictures added, one line per file refused)."""
        model = self.explorer.model
        if model is None:
            raise VaeStudioError("There is no model to encode pictures with: train or open one first.")
        added, problems = [], []
        for path in paths[:MAX_OWN_IMAGES]:
            try:
                added.append(load_own_image(path, model.config.image_shape, preview=PREVIEW_SIDE))
            except VaeStudioError as e:
                problems.append(str(e))
        if len(paths) > MAX_OWN_IMAGES:
            problems.append(f"{len(paths) - MAX_OWN_IMAGES:,} more files left out: at most {MAX_OWN_IMAGES} at once")
        if added:
            self.items = (self.items + added)[-MAX_KEPT:]
            self.current = len(self.items) - 1
            self._encode()
        return added, problems

    def select(self, index: int) -> None:
        if 0 <= index < len(self.items) and index != self.current:
            self.current = index
            self.changed.emit()

    def clear(self) -> None:
        if self.items:
            self.items, self.codes, self.logvar, self.current = [], None, None, -1
            self.changed.emit()

    # -- reactions ------------------------------------------------------------------------
    @Slot()
    def _on_decoder(self) -> None:
        """A new snapshot: encode again; a model taking other images (or none): forget them."""
        model = self.explorer.model
        if not self.items:
            return
        if model is None or tuple(model.config.image_shape) != tuple(self.items[0].image.shape):
            self.clear()
        else:
            self._encode()

    def _encode(self) -> None:
        self.codes, self.logvar = encode_own_images(self.explorer.model, self.items)
        self.changed.emit()
