"""The window's layout at the smallest screen we design for (1280x800): no button text cut, every
control of every dock inside the part of the dock on screen, no tab title cut; and View > Reset
Layout puts moved, floated and closed docks back."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QRect, Qt  # noqa: E402
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QDockWidget, QSlider,  # noqa: E402
                               QTabBar, QWidget)

from test_gui_window import WAIT_MS, answers, load_digits, state_dir, tiny_model, window  # noqa: E402,F401

CONTROLS = (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider)


def on_screen(w: QWidget, top: QWidget) -> QRect:
    """The part of `w` not cut off by any of its ancestors, in `top`'s coordinates."""
    rect = QRect(w.mapTo(top, QPoint(0, 0)), w.size())
    p = w.parentWidget()
    while p is not None and p is not top:
        rect = rect.intersected(QRect(p.mapTo(top, QPoint(0, 0)), p.size()))
        p = p.parentWidget()
    return rect


def layout_problems(qtbot, w) -> list[str]:
    problems = []
    for dock in w.findChildren(QDockWidget):
        if not dock.isVisible():
            continue
        dock.raise_()  # a tabbed dock's controls are measured when its tab is the one shown
        qtbot.wait(20)
        for c in dock.findChildren(QWidget):
            if not c.isVisible() or not isinstance(c, CONTROLS):
                continue
            name = f"{dock.objectName()}: {type(c).__name__} {c.objectName() or getattr(c, 'text', lambda: '')()!r}"
            if isinstance(c, QAbstractButton) and c.text() and c.width() < c.sizeHint().width() - 1:
                problems.append(f"{name} is {c.width()} px wide but its text needs {c.sizeHint().width()}")
            full = QRect(c.mapTo(w, QPoint(0, 0)), c.size())
            if on_screen(c, w) != full:
                problems.append(f"{name} is cut off: {full} shows only {on_screen(c, w)}")
    for bar in w.findChildren(QTabBar):
        if bar.isVisible():
            for i in range(bar.count()):
                need = max(bar.fontMetrics().horizontalAdvance(bar.tabText(i).replace("&", "")),
                           bar.tabSizeHint(i).width() - 1 if bar.elideMode() != Qt.TextElideMode.ElideNone else 0)
                if bar.tabRect(i).width() < need:  # narrower than the tab asks for: Qt elides the title
                    problems.append(f"tab {bar.tabText(i)!r} is {bar.tabRect(i).width()} px for {need}")
    return problems


@pytest.mark.parametrize("latent_dim", [2, 10])
def test_nothing_is_cut_off_at_1280x800(qtbot, window, latent_dim):
    w = window
    w.resize(1280, 800)
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.training_dock.form.latent_dim.setValue(latent_dim)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle" and w.explore.idle(), timeout=WAIT_MS)
    qtbot.wait(100)
    assert w.width() == 1280 and w.height() == 800  # nothing made the window widen itself
    assert layout_problems(qtbot, w) == []
    # pins add a strip to the decoder: it scrolls, the docks below it keep their room
    e = w.explore.explorer
    for p in e.points[:3]:
        e.pin_at(p)
    qtbot.wait(100)
    assert [p for p in layout_problems(qtbot, w) if not p.startswith("decoderDock")] == []


def test_reset_layout_puts_every_dock_back(qtbot, window):
    w = window
    w.resize(1280, 800)
    qtbot.wait(50)
    docks = {d.objectName(): d for d in w.findChildren(QDockWidget)}
    areas = {name: w.dockWidgetArea(d) for name, d in docks.items()}
    w.loss_dock.setFloating(True)
    w.training_dock.close()
    w.removeDockWidget(docks["decoderDock"])
    w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["decoderDock"])
    assert "Reset Layout" in [a.text().replace("&", "") for a in w.view_menu.actions()]
    w.reset_layout_action.trigger()
    qtbot.wait(50)
    for name, d in docks.items():
        assert d.isVisible() and not d.isFloating(), name
        assert w.dockWidgetArea(d) == areas[name], name
    assert w.reset_layout_action.shortcut().toString() == "Ctrl+Shift+R"
