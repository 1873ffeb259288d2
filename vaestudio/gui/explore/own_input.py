"""How pictures reach the explorer: dropped on the window, or File > Encode Images... (Ctrl+E).

A drag is accepted only when it carries local files with a picture suffix (others are refused
at once, so the cursor says so); files that fail to convert are listed in one error dialog and
the rest are encoded. The drop is caught by an event filter on the window and on the canvas
(a graphics view takes drops itself, so the window alone would never see drops over it).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from ...core.errors import VaeStudioError
from ...core.latent.own_images import is_image_file
from .. import dialogs

SHORTCUT = "Ctrl+E"
DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def dropped_files(mime) -> list[str]:
    """The local files a drag carries (empty when it carries none)."""
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class ImageDropFilter(QObject):
    """Accepts drags holding at least one picture file; on a drop, hands all the files to `on_files`."""

    def __init__(self, on_files, parent: QObject):
        super().__init__(parent)
        self.on_files = on_files

    def eventFilter(self, watched, event) -> bool:
        if event.type() not in DRAG_EVENTS:
            return False
        files = dropped_files(event.mimeData())
        if not any(is_image_file(f) for f in files):
            if event.type() == QEvent.Type.DragEnter and files:
                event.ignore()  # files, but no pictures: refuse here rather than let a child take them
                return True
            return False
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        if event.type() == QEvent.Type.Drop:
            self.on_files(files)
        return True


class OwnImageInput(QObject):
    """The window's ways in for pictures: the drop filter and the File menu action."""

    def __init__(self, window, explorer, canvas):
        super().__init__(window)
        self.window = window
        self.explorer = explorer
        self.drop_filter = ImageDropFilter(self.encode_files, self)
        window.setAcceptDrops(True)
        for target in (window, canvas.plot.viewport()):
            target.installEventFilter(self.drop_filter)
        self.action = QAction("&Encode Images…", window)
        self.action.setObjectName("encodeImagesAction")
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setStatusTip("Encode picture files with the current model and mark them on the latent space "
                                 "(or drop them on the window)")
        self.action.triggered.connect(self.choose_files)
        explorer.decoder_changed.connect(self._enable)
        self._enable()

    def add_to_menu(self, menu, before=None) -> None:
        """Put the action in `menu` (before the action `before`, in a group of its own)."""
        if before is None:
            menu.addAction(self.action)
            return
        actions = menu.actions()
        i = actions.index(before)
        anchor = actions[i - 1] if i > 0 and actions[i - 1].isSeparator() else before
        menu.insertAction(anchor, self.action)
        menu.insertSeparator(self.action)

    def choose_files(self) -> None:
        settings = getattr(self.window, "settings", None)
        folder = (settings.last_folder("pictures") if settings is not None else None) or str(Path.home())
        paths = dialogs.choose_image_files(self.window, folder)
        if paths:
            if settings is not None:
                settings.set_last_folder("pictures", os.path.dirname(paths[0]))
            self.encode_files(paths)

    def encode_files(self, paths: Sequence[str]) -> None:
        """Convert and encode `paths` with the explorer's model; problems go to one error dialog."""
        title = "Cannot encode the picture" if len(paths) == 1 else "Some pictures could not be encoded"
        pictures = [p for p in paths if is_image_file(p)]
        problems = [f"{p}: not a picture file (PNG, JPEG, BMP, GIF, WebP or TIFF)" for p in paths
                    if not is_image_file(p)]
        try:
            added, failed = self.explorer.own_images.add_files(pictures) if pictures else ([], [])
        except VaeStudioError as e:
            dialogs.show_error(self.window, title, e)
            return
        problems += failed
        if added:
            names = ", ".join(a.name for a in added)
            self._show_status(f"Encoded {names}: marked on the latent space; pick it with “Yours” in the "
                              f"mixer or the interpolation")
            self._raise_preview()
        if problems:
            dialogs.show_error(self.window, title, "\n".join(problems))

    def _enable(self) -> None:
        self.action.setEnabled(self.explorer.model is not None)

    def _show_status(self, text: str) -> None:
        bar = getattr(self.window, "statusBar", None)
        if bar is not None:
            bar().showMessage(text, 8000)

    def _raise_preview(self) -> None:
        tools = getattr(self.window, "explore", None)
        dock = tools.docks.get("preview") if tools is not None else None
        if dock is not None:
            dock.show()
            dock.raise_()
