"""The decoder preview: the decode of the point under the cursor with its coordinates, for
the pinned point its decode beside the nearest real image of the data set, and for a picture
the user brought the file with the crop taken from it, what the model sees and its
reconstruction.

Decoding one point runs here, in the GUI thread, on the explorer's snapshot: ~0.1 ms for an
MLP and a few ms for a 64x64 conv decoder (measured on a 2-core CPU), well inside a frame.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRectF, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from .explorer import Explorer
from .image_view import ImageView

PINNED_MAX = 96


def caption_label(text: str = "", heading: bool = False) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    label.setWordWrap(True)
    label.setStyleSheet("font-weight: 600;" if heading else "color: #5f6368;")
    return label


def describe_point(explorer: Explorer, view) -> str:
    """"z0 = +1.20   z1 = −0.35", with what the other coordinates are held at."""
    names = [n.split(" (")[0] for n in explorer.projection.axis_labels()]
    text = "   ".join(f"{n} = {v:+.2f}".replace("-", "−") for n, v in zip(names, view))
    d = explorer.latent_dim
    if explorer.projection.kind == "dims" and d > 2:
        text += f"\nthe other {d - 2} coordinates at the centre"
    elif explorer.projection.kind == "pca":
        text += "\non the PCA plane through the mean"
    return text


class DecoderPreview(QWidget):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addWidget(caption_label("Under the cursor", heading=True))
        self.hover_view = ImageView("Move the mouse over the latent space", min_side=96)
        self.hover_view.setObjectName("hoverPreview")
        layout.addWidget(self.hover_view, 1)
        self.hover_caption = caption_label()
        self.hover_caption.setObjectName("hoverCoordinates")
        layout.addWidget(self.hover_caption)

        grid = QGridLayout()
        grid.setContentsMargins(0, 8, 0, 0)
        grid.addWidget(caption_label("Pinned", heading=True), 0, 0)
        grid.addWidget(caption_label("Nearest image", heading=True), 0, 1)
        self.pin_view = ImageView("Click to pin a point", min_side=64)
        self.pin_view.setObjectName("pinnedDecode")
        self.nearest_view = ImageView("", min_side=64)
        self.nearest_view.setObjectName("nearestImage")
        for view in (self.pin_view, self.nearest_view):
            view.setMaximumHeight(PINNED_MAX)  # the point under the cursor gets the space
        grid.addWidget(self.pin_view, 1, 0)
        grid.addWidget(self.nearest_view, 1, 1)
        self.pin_caption = caption_label()
        self.nearest_caption = caption_label()
        grid.addWidget(self.pin_caption, 2, 0)
        grid.addWidget(self.nearest_caption, 2, 1)
        grid.setRowStretch(1, 1)
        layout.addLayout(grid)
        self.own_section = OwnImageSection(explorer)
        layout.addWidget(self.own_section)

        explorer.hover_changed.connect(self.show_hover)
        explorer.pins_changed.connect(self.show_pin)
        explorer.decoder_changed.connect(self._on_decoder)

    @Slot()
    def show_hover(self) -> None:
        e = self.explorer
        if e.hover_z is None or e.model is None:
            self.hover_view.set_image(None)
            self.hover_caption.setText("")
            return
        self.hover_view.set_image(e.decode(e.hover_z))
        if e.projection is not None and e.hover_view is not None:
            self.hover_caption.setText(describe_point(e, e.hover_view))

    @Slot()
    def show_pin(self) -> None:
        e = self.explorer
        pin = e.pins[-1] if e.pins and e.model is not None else None
        if pin is None:
            for view, caption in ((self.pin_view, self.pin_caption), (self.nearest_view, self.nearest_caption)):
                view.set_image(None)
                caption.setText("")
            return
        self.pin_view.set_image(e.decode(pin.z))
        self.pin_caption.setText(describe_point(e, pin.view).split("\n")[0] if e.projection is not None else "")
        if pin.nearest >= 0 and e.dataset is not None:
            self.nearest_view.set_image(e.image(pin.nearest))
            self.nearest_caption.setText(e.describe_image(pin.nearest))
        else:
            self.nearest_view.set_image(None)
            self.nearest_caption.setText("")

    @Slot()
    def _on_decoder(self) -> None:
        self.show_hover()
        self.show_pin()


class CropView(ImageView):
    """A picture with a rectangle drawn on it: the crop taken from the file."""

    def __init__(self, placeholder: str = "", min_side: int = 64, parent: Optional[QWidget] = None):
        super().__init__(placeholder, min_side, parent)
        self.crop: Optional[tuple[float, float, float, float]] = None  # in the picture's pixels

    def set_crop(self, image, crop) -> None:
        self.crop = None if image is None else tuple(crop)
        self.set_image(image)

    def crop_rect(self) -> QRectF:
        """The crop in widget coordinates (empty without a picture)."""
        if self.array is None or self.crop is None:
            return QRectF()
        rect = self.image_rect()
        sx, sy = rect.width() / self.array.shape[1], rect.height() / self.array.shape[0]
        left, top, right, bottom = self.crop
        return QRectF(rect.x() + left * sx, rect.y() + top * sy, (right - left) * sx, (bottom - top) * sy)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        crop = self.crop_rect()
        if crop.isEmpty():
            return
        p = QPainter(self)
        p.setPen(QPen(QColor(255, 127, 14), 2))
        p.drawRect(crop.adjusted(1, 1, -1, -1))
        p.end()


class OwnImageSection(QWidget):
    """The picture shown (`own_images.current`): file and crop, model input, reconstruction."""

    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 8, 0, 0)
        self.heading = caption_label("Your picture", heading=True)
        grid.addWidget(self.heading, 0, 0, 1, 3)
        self.file_view = CropView("", min_side=56)
        self.file_view.setObjectName("ownFile")
        self.input_view = ImageView("", min_side=56)
        self.input_view.setObjectName("ownInput")
        self.output_view = ImageView("", min_side=56)
        self.output_view.setObjectName("ownReconstruction")
        for col, (view, text) in enumerate(((self.file_view, "File, crop marked"), (self.input_view, "Model input"),
                                            (self.output_view, "Reconstruction"))):
            view.setMaximumHeight(PINNED_MAX)
            grid.addWidget(view, 1, col)
            grid.addWidget(caption_label(text), 2, col)
        self.caption = caption_label()
        self.caption.setObjectName("ownCaption")
        grid.addWidget(self.caption, 3, 0, 1, 2)
        self.forget_button = QToolButton()
        self.forget_button.setText("Forget All")
        self.forget_button.setToolTip("Remove your pictures from the latent space and the pickers")
        self.forget_button.clicked.connect(explorer.own_images.clear)
        grid.addWidget(self.forget_button, 3, 2, Qt.AlignmentFlag.AlignRight)
        explorer.own_images.changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        own = self.explorer.own_images
        i = own.current
        self.setVisible(0 <= i < len(own))
        if not 0 <= i < len(own) or self.explorer.model is None:
            for view in (self.input_view, self.output_view):
                view.set_image(None)
            self.file_view.set_crop(None, None)
            return
        item = own.items[i]
        self.file_view.set_crop(item.preview, _preview_crop(item))
        self.input_view.set_image(item.image)
        self.output_view.set_image(self.explorer.decode(own.codes[i]))
        more = f" · {i + 1} of {len(own)}" if len(own) > 1 else ""
        self.caption.setText(f"{item.name}: {item.describe_crop()}{more}")


def _preview_crop(item) -> tuple[float, float, float, float]:
    """The crop box in the preview's pixels (the preview is the whole file, scaled)."""
    if item.preview is None:
        return (0.0, 0.0, 0.0, 0.0)
    s = item.preview.shape[1] / item.source_size[0]
    return tuple(v * s for v in item.crop)  # type: ignore[return-value]
