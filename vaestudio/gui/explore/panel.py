"""A panel that knows whether it is on screen, so it decodes and draws overlays only then.

A dock tabbed behind another still answers `isVisible()` with True; the window learns of tab
switches through `QDockWidget.visibilityChanged` and passes them on with `set_on_screen`.
A panel built on its own (tests) goes by its show and hide events.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QWidget


class Panel(QWidget):
    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self._on_screen: Optional[bool] = None  # None: not told, go by isVisible()

    @property
    def on_screen(self) -> bool:
        return self.isVisible() if self._on_screen is None else self._on_screen and self.isVisible()

    def set_on_screen(self, on: bool) -> None:
        self._on_screen = bool(on)
        self.on_screen_changed()

    def on_screen_changed(self) -> None:
        """Shown or hidden: subclasses refresh or drop their overlays."""

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.on_screen_changed()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.on_screen_changed()
