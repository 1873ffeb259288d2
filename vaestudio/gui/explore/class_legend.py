"""The canvas legend: one entry per class; clicking the swatch or the name hides or shows it.

pyqtgraph's legend toggles the visibility of the item it describes when its swatch is
clicked. The items here are stand-ins that never enter the plot (`ClassProxy`), so one
legend serves both the points mode (one scatter per class) and the density image; the
canvas listens to `toggled` and applies the choice to whichever is on screen.
"""
from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

INK = "#333333"
DIMMED = "#aaaaaa"


class ClassProxy(pg.ScatterPlotItem):
    """A never-drawn scatter that gives the legend its swatch and carries the class's visibility."""

    def __init__(self, index: int, colour):
        super().__init__(size=10, symbol="o", pen=None, brush=pg.mkBrush(colour))
        self.index = index


class ClassLegend(QObject):
    toggled = Signal(int, bool)  # class index, visible

    def __init__(self, plot_item: pg.PlotItem):
        super().__init__()
        self.legend = plot_item.addLegend(offset=(-8, 8), labelTextColor=INK, labelTextSize="9pt",
                                          brush=pg.mkBrush(255, 255, 255, 215), pen=pg.mkPen("#cccccc"))
        self.proxies: list[ClassProxy] = []

    def set_classes(self, names: Sequence[str], colours: Sequence) -> None:
        """Entries for these classes, all visible (the old ones are removed)."""
        self.legend.clear()
        self.proxies = []
        self.legend.setColumnCount(2 if len(names) > 12 else 1)
        for i, (name, colour) in enumerate(zip(names, colours)):
            proxy = ClassProxy(i, colour)
            proxy.visibleChanged.connect(lambda p=proxy: self._on_visible(p))
            self.legend.addItem(proxy, str(name))
            sample, label = self.legend.items[-1]
            label.mouseClickEvent = sample.mouseClickEvent  # the name is clickable too
            self.proxies.append(proxy)
        self.legend.setVisible(bool(names))

    def visible(self) -> list[bool]:
        return [p.isVisible() for p in self.proxies]

    def set_visible(self, index: int, visible: bool) -> None:
        self.proxies[index].setVisible(visible)

    def sample(self, index: int):
        """The swatch of entry `index` (tests click it)."""
        return self.legend.items[index][0]

    def _on_visible(self, proxy: ClassProxy) -> None:
        sample, label = self.legend.items[proxy.index]
        label.setAttr("color", INK if proxy.isVisible() else DIMMED)
        label.setText(label.text)
        sample.update()
        self.toggled.emit(proxy.index, proxy.isVisible())
