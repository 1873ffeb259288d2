"""The latent-space tools of the window: the canvas (the "Latent space" tab), the decoder
preview, the lattice and prior samples, the attribute mixer, interpolation, the latent usage
(KL per dimension) and their exports.

`install(window)` is the entry point the main window calls at the end of its construction.
Each piece is a widget over one shared `Explorer` (which wraps the window's `Session`), so it
can also be built and tested on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea, QWidget

from .canvas import LatentCanvas
from .explorer import Explorer
from .export import ExportController
from .groups_view import GroupsPanel
from .interpolation import InterpolationPanel
from .lattice_view import LatticePanel
from .mixer import AttributeMixer
from .neighbours_view import NeighbourStrip
from .own_input import OwnImageInput
from .preview import DecoderPreview
from .traversal_view import TraversalPanel
from .usage_view import UsagePanel

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
DOCK_WIDTH = 340


@dataclass
class ExploreTools:
    """What `install` built, kept on the window as `window.explore`."""

    explorer: Explorer
    canvas: LatentCanvas
    preview: DecoderPreview
    lattice: LatticePanel
    mixer: AttributeMixer
    interpolation: InterpolationPanel
    export: ExportController
    docks: dict
    own_input: Optional[OwnImageInput] = None  # picture drops and File > Encode Images
    usage: Optional[UsagePanel] = None  # KL per latent dimension, in `usage_dock`
    usage_dock: Optional[QDockWidget] = None  # tabbed with the loss curves at the bottom
    groups: Optional[GroupsPanel] = None  # find, select and save groups; group vectors
    groups_dock: Optional[QDockWidget] = None  # tabbed after the interpolation
    neighbours: Optional[NeighbourStrip] = None  # the k nearest real images, in `neighbours_dock`
    neighbours_dock: Optional[QDockWidget] = None  # tabbed with the loss curves at the bottom
    traversal: Optional[TraversalPanel] = None  # a row per latent dimension, in `traversal_dock`
    traversal_dock: Optional[QDockWidget] = None  # tabbed on the right after the groups

    def idle(self) -> bool:
        """The newest snapshot is encoded and every grid and strip asked for is on screen."""
        e = self.explorer
        return (e.ready or e.model is None) and not e.busy and e.runner.idle

    def demonstrate(self) -> None:
        """Pin one cluster's centre and move the mouse over another's, as a person would (the
        screenshot verb shows the result)."""
        e = self.explorer
        if not e.ready:
            return
        groups = self.canvas._class_rows or [np.arange(len(e.points))]
        groups = sorted((g for g in groups if len(g)), key=len, reverse=True)
        first, second = groups[0], groups[min(1, len(groups) - 1)]
        e.pin_at(np.median(e.points[first], axis=0))
        target = np.median(e.points[second], axis=0)
        viewport = self.canvas.plot.viewport()
        pos = self.canvas.view_to_widget(*target)
        event = QMouseEvent(QEvent.Type.MouseMove, pos, QPointF(viewport.mapToGlobal(pos.toPoint())),
                            Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)

    def default_sizes(self, window) -> None:
        _default_sizes(window, self.docks)

    def shutdown(self) -> None:
        self.explorer.shutdown()


def _scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def _dock(window, title: str, name: str, widget: QWidget) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    window.add_dock(dock, RIGHT)
    return dock


def _default_sizes(window, docks: dict) -> None:
    """The right-hand column's first-start sizes (also View > Reset Layout): the decoder on top,
    the lattice raised below it with room for the mixer's and interpolation's controls at 1280x800."""
    docks["lattice"].raise_()
    window.resizeDocks([docks["preview"]], [DOCK_WIDTH], Qt.Orientation.Horizontal)
    window.resizeDocks([docks["preview"], docks["lattice"]], [290, 480], Qt.Orientation.Vertical)
    loss_dock = getattr(window, "loss_dock", None)
    if loss_dock is not None:
        loss_dock.raise_()  # the latent usage (if any) waits in the tab beside the loss curves


def _install_groups(window, explorer: Explorer, mixer: AttributeMixer, docks: dict):
    """The Groups dock, a tab beside the interpolation; "Add to Mixer" brings the mixer forward."""
    panel = GroupsPanel(explorer, mixer)
    dock = QDockWidget("Groups", window)
    dock.setObjectName("groupsDock")
    dock.setWidget(panel)
    window.add_dock(dock, RIGHT)
    window.tabifyDockWidget(docks["interpolation"], dock)
    mixer_dock = docks["mixer"]
    panel.vector_added.connect(lambda _name: (mixer_dock.show(), mixer_dock.raise_()))
    return panel, dock


def _install_neighbours_traversal(window, explorer: Explorer, canvas: LatentCanvas, preview: DecoderPreview,
                                  docks: dict):
    """The Neighbours strip in a tab beside the loss curves (a wide, short strip: the bottom's
    shape) and the Traversal grid in a tab on the right; both follow the decoder's chosen pin."""
    strip = NeighbourStrip(explorer)
    strip.pin_index = preview._shown_index
    strip.track_canvas(canvas.plot)
    strip_dock = QDockWidget("Neighbours", window)
    strip_dock.setObjectName("neighboursDock")
    strip_dock.setWidget(strip)
    loss_dock = getattr(window, "loss_dock", None)
    if loss_dock is not None:
        window.add_dock(strip_dock, Qt.DockWidgetArea.BottomDockWidgetArea)
        window.tabifyDockWidget(loss_dock, strip_dock)
    else:
        window.add_dock(strip_dock, RIGHT)
    strip_dock.visibilityChanged.connect(strip.set_on_screen)
    traversal = TraversalPanel(explorer)
    traversal.pin_index = preview._shown_index
    traversal_dock = QDockWidget("Traversal", window)
    traversal_dock.setObjectName("traversalDock")
    traversal_dock.setWidget(traversal)
    window.add_dock(traversal_dock, RIGHT)
    window.tabifyDockWidget(docks["interpolation"], traversal_dock)
    traversal_dock.visibilityChanged.connect(traversal.set_on_screen)
    preview.pin_chosen.connect(strip.invalidate)
    preview.pin_chosen.connect(traversal._on_pins)
    if getattr(window, "view_menu", None) is not None:
        window.view_menu.addAction(canvas.thumbnails_action)  # View > Canvas Thumbnails (Ctrl+Shift+I)
    return strip, strip_dock, traversal, traversal_dock


def install(window) -> ExploreTools:
    """Put the canvas in the "Latent space" tab; the preview on the right with the lattice,
    mixer and interpolation tabbed below it; the latent usage in a tab beside the loss curves;
    the exports in the Export menu."""
    explorer = Explorer(window.session, window)
    canvas = LatentCanvas(explorer)
    canvas.setObjectName("latentCanvas")
    tabs = window.central_tabs
    placeholder = getattr(window, "latent_placeholder", None)
    index = max(tabs.indexOf(placeholder), 0) if placeholder is not None else 0
    title = tabs.tabText(index) or "Latent space"
    if tabs.count():
        tabs.removeTab(index)
    tabs.insertTab(index, canvas, title)
    tabs.setCurrentIndex(index)
    if placeholder is not None:
        placeholder.deleteLater()
        window.latent_placeholder = canvas

    preview = DecoderPreview(explorer)
    lattice = LatticePanel(explorer)
    mixer = AttributeMixer(explorer)
    interpolation = InterpolationPanel(explorer)
    docks = {
        "preview": _dock(window, "Decoder", "decoderDock", _scrolling(preview)),
        "lattice": _dock(window, "Lattice", "latticeDock", lattice),
        "mixer": _dock(window, "Attribute Mixer", "mixerDock", _scrolling(mixer)),
        "interpolation": _dock(window, "Interpolation", "interpolationDock", _scrolling(interpolation)),
    }
    window.setCorner(Qt.Corner.BottomRightCorner, RIGHT)  # the tools take the full height
    window.splitDockWidget(docks["preview"], docks["lattice"], Qt.Orientation.Vertical)
    window.tabifyDockWidget(docks["lattice"], docks["mixer"])
    window.tabifyDockWidget(docks["mixer"], docks["interpolation"])
    for key in ("lattice", "interpolation"):
        panel = lattice if key == "lattice" else interpolation
        docks[key].visibilityChanged.connect(panel.set_on_screen)
    usage = usage_dock = None
    loss_dock = getattr(window, "loss_dock", None)
    if loss_dock is not None:
        usage = UsagePanel(explorer)
        usage_dock = QDockWidget("Latent Usage", window)
        usage_dock.setObjectName("usageDock")
        usage_dock.setWidget(usage)
        window.add_dock(usage_dock, Qt.DockWidgetArea.BottomDockWidgetArea)
        window.tabifyDockWidget(loss_dock, usage_dock)
    groups_panel, groups_dock = _install_groups(window, explorer, mixer, docks)
    strip, strip_dock, traversal, traversal_dock = _install_neighbours_traversal(window, explorer, canvas, preview,
                                                                                docks)
    _default_sizes(window, docks)

    export = ExportController(explorer, canvas, lattice, mixer, interpolation, window)
    export.add_to_menu(window.export_menu)
    if getattr(window, "view_menu", None) is not None:
        canvas.add_map_actions(window.view_menu)  # View > t-SNE Map, UMAP Map

    tools = ExploreTools(explorer, canvas, preview, lattice, mixer, interpolation, export, docks, usage=usage,
                         usage_dock=usage_dock, groups=groups_panel, groups_dock=groups_dock,
                         neighbours=strip, neighbours_dock=strip_dock, traversal=traversal,
                         traversal_dock=traversal_dock)
    tools.own_input = OwnImageInput(window, explorer, canvas)
    if getattr(window, "file_menu", None) is not None:
        tools.own_input.add_to_menu(window.file_menu, getattr(window, "quit_action", None))
    window.explore = tools
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(explorer.shutdown)
    return tools
