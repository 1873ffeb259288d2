"""What the window remembers between runs: geometry, dock layout, recent models, data and export folders.

Everything goes through `AppSettings`, a thin typed layer over `QSettings`. Setting the
environment variable `VAESTUDIO_STATE_DIR` moves the settings (an INI file) and the autosaves
into that folder: tests and the screenshot verb use it so they never touch the user's own.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

STATE_ENV = "VAESTUDIO_STATE_DIR"
ORGANIZATION = "VAE Studio"
APPLICATION = "VAE Studio"
DESKTOP_FILE = "vaestudio"  # the .desktop file's name without its extension
MAX_RECENT = 8


def state_dir() -> Path:
    """The folder for settings (when redirected) and autosaves; created on demand."""
    env = os.environ.get(STATE_ENV)
    if env:
        path = Path(env)
    else:
        loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        path = Path(loc or os.path.expanduser("~/.local/share/vaestudio"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_qsettings() -> QSettings:
    if os.environ.get(STATE_ENV):
        return QSettings(str(state_dir() / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


class AppSettings:
    """Typed access to the few things VAE Studio stores. Values are JSON strings or byte arrays,
    so they read back the same from every QSettings back end."""

    def __init__(self, qsettings: Optional[QSettings] = None):
        self.q = qsettings if qsettings is not None else open_qsettings()

    # -- JSON values ----------------------------------------------------------------------
    def _get_json(self, key: str, default):
        raw = self.q.value(key)
        if raw in (None, ""):
            return default
        try:
            return json.loads(str(raw))
        except ValueError:
            return default

    def _set_json(self, key: str, value) -> None:
        self.q.setValue(key, json.dumps(value))

    # -- recent model files ---------------------------------------------------------------
    def recent_models(self) -> list[str]:
        items = self._get_json("recent/models", [])
        return [str(p) for p in items if isinstance(p, str)][:MAX_RECENT]

    def add_recent_model(self, path: str | os.PathLike) -> None:
        p = os.path.abspath(os.fspath(path))
        items = [p] + [q for q in self.recent_models() if q != p]
        self._set_json("recent/models", items[:MAX_RECENT])

    def remove_recent_model(self, path: str | os.PathLike) -> None:
        p = os.path.abspath(os.fspath(path))
        self._set_json("recent/models", [q for q in self.recent_models() if q != p])

    def clear_recent_models(self) -> None:
        self._set_json("recent/models", [])

    # -- folders --------------------------------------------------------------------------
    def last_folder(self, key: str) -> Optional[str]:
        """The folder last used for `key` (a data set name, or 'models')."""
        folders = self._get_json("folders/last", {})
        value = folders.get(key) if isinstance(folders, dict) else None
        return value if isinstance(value, str) else None

    def set_last_folder(self, key: str, path: str | os.PathLike) -> None:
        folders = self._get_json("folders/last", {})
        if not isinstance(folders, dict):
            folders = {}
        folders[key] = os.path.abspath(os.fspath(path))
        self._set_json("folders/last", folders)

    def export_folder(self, kind: str) -> Optional[str]:
        """The folder the last export of `kind` ('image', 'animation', 'table') went to, if it
        still exists: each kind's chooser opens where that kind of file was last written."""
        folders = self._get_json("folders/exports", {})
        value = folders.get(kind) if isinstance(folders, dict) else None
        return value if isinstance(value, str) and os.path.isdir(value) else None

    def set_export_folder(self, kind: str, folder: str | os.PathLike) -> None:
        folders = self._get_json("folders/exports", {})
        if not isinstance(folders, dict):
            folders = {}
        folders[kind] = os.path.abspath(os.fspath(folder))
        self._set_json("folders/exports", folders)

    # -- the data set opened last (a DatasetSpec dict) --------------------------------------
    def last_dataset(self) -> Optional[dict]:
        d = self._get_json("data/last_spec", None)
        return d if isinstance(d, dict) and "name" in d else None

    def set_last_dataset(self, spec: dict) -> None:
        self._set_json("data/last_spec", spec)

    # -- window layout --------------------------------------------------------------------
    def save_window(self, window) -> None:
        self.q.setValue("window/geometry", window.saveGeometry())
        self.q.setValue("window/state", window.saveState())

    def restore_window(self, window) -> bool:
        """Restore geometry and dock layout; False when nothing was stored yet."""
        geometry = self.q.value("window/geometry")
        state = self.q.value("window/state")
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            window.restoreState(state)
        return restored

    def sync(self) -> None:
        self.q.sync()
