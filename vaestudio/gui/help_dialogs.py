"""Help menu dialogs: the user guide (the markdown shipped in the package), the keyboard
shortcuts (read from the window's actions, so the list never goes stale) and a getting-started
walk-through that can do its first step."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QDockWidget, QHeaderView, QLabel,
                               QPushButton, QStackedWidget, QTableWidget, QTableWidgetItem, QTabWidget, QTextBrowser,
                               QVBoxLayout, QWidget)

GUIDE_FILE = "guide.md"
STARTER_PRESET = "MNIST MLP VAE, 2-D latent"
STARTER_DATASET = "digits"

# Keys handled by widgets themselves (not QActions of the main window): (where, what, keys).
OTHER_KEYS = (
    ("Latent space", "Clear the pins (canvas focused)", "Del"),
    ("Latent space", "Clear the selection or stop a lasso (canvas focused)", "Esc"),
    ("Compare Runs window", "Compare", "Ctrl+Return"),
    ("Enlarged lattice", "Zoom in (or the mouse wheel)", "Ctrl+="),
    ("Enlarged lattice", "Zoom out", "Ctrl+-"),
    ("Enlarged lattice", "Fit the picture", "Ctrl+0"),
)

GETTING_STARTED_STEPS = (
    ("Train", "File > Open Dataset > the built-in digits, choose the preset "
              f"“{STARTER_PRESET}” in the Training dock and press Start (Ctrl+R). The loss plots "
              "fall as it learns; two or three epochs are enough to look around."),
    ("Hover", "Move the mouse over the latent canvas: the Decoder panel shows the image decoded "
              "from the point under the cursor. Click to pin a point and see the nearest real digit "
              "beside it. The Lattice dock decodes a whole grid of points at once."),
    ("Mix", "Open the Attribute Mixer tab, pick a base image and raise an attribute (on digits "
            "each label is one, e.g. “is a 7”): the decode changes live, and the strip below "
            "sweeps from the base to the mix."),
    ("Export", "Export > Lattice as PNG, or Attribute Sweep Animation for a GIF or MP4. "
               "File > Save Model keeps the model; Help > About This Model (Ctrl+I) says what it is."),
)


def guide_path() -> Path:
    """The guide as installed with the package (vaestudio/gui/resources/guide.md)."""
    return Path(str(resources.files("vaestudio.gui").joinpath("resources", GUIDE_FILE)))


def _plain(text: str) -> str:
    """A menu text without its mnemonic ampersands ("&&" stays one "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _keys(action: QAction) -> str:
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts() if not s.isEmpty())


def _place(widget: QWidget, window) -> str:
    """Where a widget sits, as the window names it: its dock's title or its central tab's."""
    w = widget
    while w is not None and w is not window:
        if isinstance(w, QDockWidget):
            return w.windowTitle()
        parent = w.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
            tabs = parent.parentWidget()
            return tabs.tabText(tabs.indexOf(w)) or "Window"
        w = parent
    return "Window"


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(where, action, keys) for every action of `window` with a shortcut: first those in the
    menus (where = the menu path), then other actions the window owns, then those its panels
    carry (e.g. the latent canvas's, where = the tab or dock)."""
    rows, seen = [], set()

    def walk(menu, path):
        for act in menu.actions():
            if act.menu() is not None:
                walk(act.menu(), f"{path} > {_plain(act.menu().title())}")
            elif not act.isSeparator() and _keys(act) and id(act) not in seen:
                seen.add(id(act))
                rows.append((path, _plain(act.text()), _keys(act)))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.menu().title()))
    for act in (*window.actions(), *window.findChildren(QAction, options=Qt.FindChildOption.FindDirectChildrenOnly)):
        if _keys(act) and id(act) not in seen:
            seen.add(id(act))
            rows.append(("Window", _plain(act.text()), _keys(act)))
    for widget in window.findChildren(QWidget):
        if isinstance(widget, QDialog) or widget.window() is not window:
            continue  # other windows' keys work only there
        for act in widget.actions():
            if _keys(act) and id(act) not in seen:
                seen.add(id(act))
                rows.append((_place(widget, window), _plain(act.text()), _keys(act)))
    return rows


def _close_buttons(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    return buttons


class GuideDialog(QDialog):
    """The user guide rendered from its markdown file."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("userGuideDialog")
        self.setWindowTitle("VAE Studio User Guide")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        try:
            self.browser.setMarkdown(guide_path().read_text(encoding="utf-8"))
        except OSError as e:  # a broken install: say so rather than show an empty page
            self.browser.setPlainText(f"The user guide could not be read ({e}). See README.md.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(_close_buttons(self))
        self.resize(720, 640)


class ShortcutsDialog(QDialog):
    """A table of the window's shortcuts, then the keys other views handle themselves."""

    def __init__(self, window):
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = shortcut_rows(window) + list(OTHER_KEYS)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        for r, (where, what, keys) in enumerate(self.rows):
            for c, text in enumerate((keys, what, where)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(_close_buttons(self))
        self.resize(560, 480)


class GettingStartedDialog(QDialog):
    """Numbered steps (train, hover, mix, export); "Set Up Step 1" picks the preset and opens digits."""

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("gettingStartedDialog")
        self.setWindowTitle("Getting Started")
        items = "".join(f"<li><b>{title}.</b> {text}</li>" for title, text in GETTING_STARTED_STEPS)
        self.steps = QLabel(f"<p>A first tour on the built-in digits, a few minutes on a laptop:</p><ol>{items}</ol>")
        self.steps.setObjectName("gettingStartedSteps")
        self.steps.setWordWrap(True)
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        self.setup_button = QPushButton("Set Up Step &1")
        self.setup_button.setObjectName("setUpFirstStep")
        self.setup_button.clicked.connect(self.set_up_first_step)
        ready, why = self._can_set_up()
        self.setup_button.setEnabled(ready)
        self.setup_button.setToolTip(why or f"Choose the preset “{STARTER_PRESET}” and open the digits; "
                                            "then press Start")
        buttons = _close_buttons(self)
        buttons.addButton(self.setup_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.steps)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def _can_set_up(self) -> tuple[bool, str]:
        w = self.window_
        if w.session.state != "idle":
            return False, "Training is running: stop it first."
        if w.session.run is not None:
            return False, "A model is open: Train > New Model first, then come back here."
        return True, ""

    def set_up_first_step(self) -> bool:
        """Choose the starter preset and open the digits (unless open already). False: nothing done."""
        w = self.window_
        if not self._can_set_up()[0]:
            return False
        form = w.training_dock.form
        preset = next((p for p in form.presets() if p.name == STARTER_PRESET), None)
        if preset is not None:
            form.apply_preset(preset)
        if w.session.dataset is None or w.session.dataset.spec.name != STARTER_DATASET:
            w.open_dataset_by_name(STARTER_DATASET)
        w.statusBar().showMessage("Ready for step 1: press Start (Ctrl+R)", 8000)
        self.accept()
        return True
