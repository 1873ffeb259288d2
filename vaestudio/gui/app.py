"""Entry points of the window: `run_app` (what `vaestudio` with no arguments calls) and `main`
(the `vaestudio-gui` script). The window is shown before torch is imported; torch and the
data set load right after the first paint (`MainWindow.start_up`)."""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Optional

ICON_NAME = "vaestudio.svg"


def icon_path() -> Optional[Path]:
    """The application icon: inside the package, else the repository's resources/ folder
    (a checkout where the packaged link could not be made)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources" / ICON_NAME, here.parents[1] / "resources" / ICON_NAME):
        try:
            if candidate.read_bytes().lstrip().startswith(b"<"):
                return candidate
        except OSError:
            continue
    return None


def create_application(argv=None):
    """The QApplication with VAE Studio's names, desktop entry and icon (reused if one exists)."""
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from .settings import APPLICATION, DESKTOP_FILE, ORGANIZATION

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(sys.argv if argv is None else argv))
    QApplication.setOrganizationName(ORGANIZATION)
    QApplication.setApplicationName(APPLICATION)
    from .. import __version__
    QApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(DESKTOP_FILE)
    path = icon_path()
    if path is not None:
        QApplication.setWindowIcon(QIcon(str(path)))
    return app


def _install_excepthook(window, debug: bool) -> None:
    """An exception escaping a slot becomes an error dialog; the window keeps working."""
    from .dialogs import show_error

    def hook(exc_type, exc, tb):
        if debug:
            traceback.print_exception(exc_type, exc, tb)
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        try:
            show_error(window, "Unexpected error", exc.with_traceback(tb))
        except Exception:  # noqa: BLE001 - never lose the original error
            sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = hook


def open_window(debug: bool = False):
    """Create the application and show the window; torch and the data follow the first paint.
    Returns (app, window) without entering the event loop (the benchmark uses this too)."""
    from PySide6.QtCore import QTimer

    from .main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.show()
    _install_excepthook(window, debug)
    QTimer.singleShot(0, window.start_up)
    return app, window


def run_app(debug: bool = False) -> int:
    """The window until it closes; 2 with one line on stderr when Linux lacks libraries the
    xcb plugin needs (Qt alone would only say it "could not load the Qt platform plugin")."""
    from .platform_check import check_xcb

    problem = check_xcb()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    app, window = open_window(debug)
    code = app.exec()
    sys.excepthook = sys.__excepthook__
    return int(code)


def main() -> int:
    """`vaestudio-gui`: the window, with tracebacks on stderr when VAESTUDIO_DEBUG is set."""
    return run_app(debug=bool(os.environ.get("VAESTUDIO_DEBUG")))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
