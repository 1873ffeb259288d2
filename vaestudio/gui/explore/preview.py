"""The decoder preview: the decode of the point under the cursor with its coordinates, a strip
of every pinned point (each removable) with the chosen one's decode beside the nearest real
image of the data set (the newest pin unless one is clicked in the strip), and for a picture
the user brought the file with the crop taken from it, what the model sees and its
reconstruction.

Decoding one point runs here, in the GUI thread, on the explorer's snapshot: ~0.1 ms for an
MLP and a few ms for a 64x64 conv decoder (measured on a 2-core CPU), well inside a frame.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout,
                               QWidget)

from .explorer import Explorer, pin_name
from .image_view import ImageView

PINNED_MAX = 96
CHIP_SIDE = 40  # a pin's decode in the strip


def caption_label(text: str = "", heading: bool = False) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    label.setWordWrap(True)
    label.setStyleSheet("font-weight: 600;" if heading else "color: #5f6368;")
    return label


def describe_point(explorer: Explorer, view) -> str:
    """"z0 = +1.20" over "z1 = −0.35" (a line each: the captions are a third of the dock wide),
    with what the other coordinates are held at."""
    names = [n.split(" (")[0] for n in explorer.projection.axis_labels()]
    text = "\n".join(f"{n} = {v:+.2f}".replace("-", "−") for n, v in zip(names, view))
    d = explorer.latent_dim
    if explorer.projection.kind == "dims" and d > 2:
        text += f"\nthe other {d - 2} coordinates at the centre"
    elif explorer.projection.kind == "pca":
        text += "\non the PCA plane through the mean"
    return text


class DecoderPreview(QWidget):
    pin_chosen = Signal(int)  # a pin chosen to show large (views that follow the chosen pin redo)

    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        # one row: the point under the cursor, the chosen pin and the real image nearest to it, so
        # the pins' strip below still fits in the dock at 1280x800
        self.hover_view = ImageView("Move the mouse over the latent space", min_side=80)
        self.hover_view.setObjectName("hoverPreview")
        self.hover_caption = caption_label()
        self.hover_caption.setObjectName("hoverCoordinates")

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(caption_label("Under the cursor", heading=True), 0, 0)
        self.pin_heading = caption_label("Pinned", heading=True)
        grid.addWidget(self.pin_heading, 0, 1)
        grid.addWidget(caption_label("Nearest image", heading=True), 0, 2)
        self.pin_view = ImageView("Click to pin a point", min_side=64)
        self.pin_view.setObjectName("pinnedDecode")
        self.nearest_view = ImageView("", min_side=64)
        self.nearest_view.setObjectName("nearestImage")
        grid.addWidget(self.hover_view, 1, 0)
        grid.addWidget(self.pin_view, 1, 1)
        grid.addWidget(self.nearest_view, 1, 2)
        self.pin_caption = caption_label()
        self.nearest_caption = caption_label()
        grid.addWidget(self.hover_caption, 2, 0)
        grid.addWidget(self.pin_caption, 2, 1)
        grid.addWidget(self.nearest_caption, 2, 2)
        grid.setRowStretch(1, 1)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        layout.addLayout(grid, 1)

        head = QHBoxLayout()
        head.setContentsMargins(0, 8, 0, 0)
        self.pins_heading = caption_label("Pinned points", heading=True)
        self.pins_heading.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.pins_heading, 1)
        self.clear_pins_button = QToolButton()
        self.clear_pins_button.setObjectName("clearPins")
        self.clear_pins_button.setText("Clear Pins")
        self.clear_pins_button.setToolTip("Remove every pinned point (Ctrl+Shift+X or Delete on the canvas)")
        self.clear_pins_button.clicked.connect(explorer.clear_pins)
        head.addWidget(self.clear_pins_button)
        layout.addLayout(head)
        self.chips_box = QWidget()
        self.chips_row = QHBoxLayout(self.chips_box)
        self.chips_row.setContentsMargins(0, 0, 0, 0)
        self.chips_row.setSpacing(4)
        self.chips_row.addStretch(1)
        self.chips: list[PinChip] = []
        self.chips_area = QScrollArea()
        self.chips_area.setWidget(self.chips_box)
        self.chips_area.setWidgetResizable(True)
        self.chips_area.setFrameShape(QFrame.Shape.NoFrame)
        self.chips_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chips_area.setFixedHeight(CHIP_SIDE + 40)
        self.chips_area.hide()  # shown while there are pins: the hover decode gets the room
        layout.addWidget(self.chips_area)
        self.chosen = -1  # the pin shown large: an index into `explorer.pins`, -1 for the newest

        self.own_section = OwnImageSection(explorer)
        layout.addWidget(self.own_section)

        explorer.hover_changed.connect(self.show_hover)
        explorer.pins_changed.connect(self._on_pins)
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

    def choose_pin(self, index: int) -> None:
        """Show pin `index` large (with its nearest image)."""
        self.chosen = index
        self.show_pin()
        self.pin_chosen.emit(index)

    def remove_pin(self, index: int) -> None:
        self.explorer.remove_pin(index)

    @Slot()
    def _on_pins(self) -> None:
        """A pin came or went: back to the newest, and a chip per pin."""
        self.chosen = -1
        self.show_pin()

    def _refresh_chips(self) -> None:
        e = self.explorer
        pins = e.pins if e.model is not None else []
        while len(self.chips) < len(pins):
            chip = PinChip(len(self.chips))
            chip.chosen.connect(self.choose_pin)
            chip.removed.connect(self.remove_pin)
            self.chips_row.insertWidget(len(self.chips), chip)
            self.chips.append(chip)
        for chip in self.chips[len(pins):]:
            self.chips_row.removeWidget(chip)
            chip.deleteLater()
        del self.chips[len(pins):]
        shown = self._shown_index()
        for i, (chip, pin) in enumerate(zip(self.chips, pins)):
            chip.show_pin(e.decode(pin.z), i == shown)
        self.chips_area.setVisible(bool(pins))
        self.clear_pins_button.setEnabled(bool(pins))
        self.pins_heading.setText(f"Pinned points ({len(pins)})" if pins else "Pinned points")

    def _shown_index(self) -> int:
        n = len(self.explorer.pins)
        return self.chosen if 0 <= self.chosen < n else n - 1

    @Slot()
    def show_pin(self) -> None:
        e = self.explorer
        self._refresh_chips()
        i = self._shown_index()
        pin = e.pins[i] if e.pins and e.model is not None else None
        self.pin_heading.setText(f"Pinned {pin_name(i)}" if pin is not None else "Pinned")
        if pin is None:
            for view, caption in ((self.pin_view, self.pin_caption), (self.nearest_view, self.nearest_caption)):
                view.set_image(None)
                caption.setText("")
            return
        self.pin_view.set_image(e.decode(pin.z))
        # the coordinates only (a line each), not what the other coordinates are held at
        self.pin_caption.setText("\n".join(describe_point(e, pin.view).split("\n")[:2])
                                 if e.projection is not None else "")
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


class PinChip(QWidget):
    """One pinned point in the strip: its name, its decode (a click shows it large) and a
    button that removes it."""

    chosen = Signal(int)
    removed = Signal(int)

    def __init__(self, index: int, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.index = index
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        self.view = ImageView("", min_side=CHIP_SIDE)
        self.view.setFixedSize(CHIP_SIDE, CHIP_SIDE)
        self.view.setToolTip(f"Pin {pin_name(index)}: click to show it large")
        grid.addWidget(self.view, 0, 0, 1, 2)
        self.name = QLabel(pin_name(index))
        grid.addWidget(self.name, 1, 0)
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip(f"Remove pin {pin_name(index)} (or Ctrl+click it on the canvas)")
        self.remove_button.clicked.connect(lambda: self.removed.emit(self.index))
        grid.addWidget(self.remove_button, 1, 1)

    def show_pin(self, image, shown: bool) -> None:
        self.view.set_image(image)
        self.name.setStyleSheet("font-weight: 600;" if shown else "color: #5f6368;")

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self.chosen.emit(self.index)
        else:
            super().mousePressEvent(event)


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
