"""The Groups dock: find points by label or attribute ("7", "Smiling and not Male"), save the
canvas's selection (lasso, rectangle or filter) as a named group kept with the model, list the
groups, and send the vector from one group to another to the attribute mixer.

Groups are rows of the explorer's split of one data set; those picked on another data set stay
in the model and are listed as not applicable here. Every change goes through the `Explorer`,
which writes the groups into the run; this panel only shows them and asks the questions. The
name question and the file choosers are module functions so tests can replace them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QToolButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from ...core.errors import VaeStudioError
from ...core.latent.groups import read_index_file, select, write_index_file
from .. import dialogs
from .explorer import Explorer
from .preview import caption_label

FILTER_DELAY_MS = 150  # typing pauses this long before the matches are looked up
INDEX_FILTER = "Index lists (*.txt *.csv *.npy);;All files (*)"
INDEX_SAVE_FILTER = "Text, one index per line (*.txt);;NumPy arrays (*.npy)"
OTHER_DATASET = "not applicable: picked on another data set or split"


def ask_group_name(parent: QWidget, title: str, suggested: str) -> Optional[str]:
    """The name for a group, or None when cancelled (tests replace this)."""
    text, ok = QInputDialog.getText(parent, title, "Group name:", QLineEdit.EchoMode.Normal, suggested)
    return text if ok else None


def choose_index_file(parent: QWidget, folder: str) -> str:
    return dialogs.choose_file(parent, "Import Group Indices", folder, INDEX_FILTER)


def choose_index_save(parent: QWidget, suggested: str) -> str:
    return dialogs.choose_save_file(parent, "Export Group Indices", suggested, INDEX_SAVE_FILTER)


def _tool(text: str, tip: str, slot, name: str = "") -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    if name:
        b.setObjectName(name)
    b.clicked.connect(lambda: slot())
    return b


class GroupsPanel(QWidget):
    vector_added = Signal(str)  # a group vector was put in the mixer (its mixer name)

    def __init__(self, explorer: Explorer, mixer=None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.mixer = mixer
        self.matches: Optional[np.ndarray] = None  # rows matching the filter, None without one
        self.last_error: Optional[str] = None
        self.folder = str(Path.home())  # where the index file choosers open

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        find = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setObjectName("groupFilter")
        self.filter.setPlaceholderText("Find: 7, Smiling and not Male")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("A label (7, label=7) or attribute; join terms with \"and\", negate with \"not\"")
        self.select_matches_button = _tool("Select", "Make the matches the selection", self.select_matches,
                                           "selectMatches")
        find.addWidget(self.filter, 1)
        find.addWidget(self.select_matches_button)
        layout.addLayout(find)
        self.match_label = caption_label("")
        self.match_label.setObjectName("matchCount")
        layout.addWidget(self.match_label)

        sel = QHBoxLayout()
        self.selection_label = QLabel()
        self.selection_label.setObjectName("selectionSize")
        self.save_button = _tool("Save as Group…", "Save the selected points as a group kept with the model",
                                 self.save_selection, "saveGroup")
        sel.addWidget(self.selection_label, 1)
        sel.addWidget(self.save_button)
        layout.addLayout(sel)

        self.tree = QTreeWidget()
        self.tree.setObjectName("groupList")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Group", "Images"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setMinimumHeight(70)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.tree.itemDoubleClicked.connect(lambda *_: self.show_group())
        layout.addWidget(self.tree, 1)

        row = QHBoxLayout()
        self.show_button = _tool("Show", "Mark the group's points on the canvas", self.show_group, "showGroup")
        self.rename_button = _tool("Rename…", "Rename the group", self.rename_group, "renameGroup")
        self.delete_button = _tool("Delete", "Delete the group", self.delete_group, "deleteGroup")
        self.export_button = _tool("Export…", "Write the group's indices (.txt or .npy)", self.export_group,
                                   "exportGroup")
        self.import_button = _tool("Import…", "Make a group from a file of indices (.txt, .csv or .npy)",
                                   self.import_group, "importGroup")
        for b in (self.show_button, self.rename_button, self.delete_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        files = QHBoxLayout()
        files.addWidget(QLabel("Indices"))
        files.addWidget(self.export_button)
        files.addWidget(self.import_button)
        files.addStretch(1)
        layout.addLayout(files)
        self.problems = caption_label("")
        self.problems.setObjectName("groupProblems")
        self.problems.setWordWrap(True)
        layout.addWidget(self.problems)

        vec = QHBoxLayout()
        vec.addWidget(QLabel("Vector"))
        self.from_combo, self.to_combo = QComboBox(), QComboBox()
        self.from_combo.setToolTip("From this group (alpha 0)...")
        self.to_combo.setToolTip("...towards this one: mean(B) − mean(A) in latent space")
        for combo in (self.from_combo, self.to_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)
        vec.addWidget(self.from_combo, 1)
        vec.addWidget(QLabel("→"))
        vec.addWidget(self.to_combo, 1)
        layout.addLayout(vec)
        add = QHBoxLayout()
        self.vector_hint = caption_label("")
        add.addWidget(self.vector_hint, 1)
        self.add_button = _tool("Add to Mixer", "Add the vector from the first group to the second to the "
                                "attribute mixer, as a slider", self.add_to_mixer, "addGroupVector")
        add.addWidget(self.add_button)
        layout.addLayout(add)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _: self._filter_timer.start())
        self.filter.returnPressed.connect(self.apply_filter)
        explorer.selection_changed.connect(self._show_selection)
        explorer.groups_changed.connect(self._fill)
        explorer.encodings_changed.connect(self._on_encodings)
        self._fill()
        self._show_selection()

    # -- public -----------------------------------------------------------------------------
    def current_group(self):
        """The Group of the list's current row, or None."""
        item = self.tree.currentItem()
        if item is None:
            return None
        name = item.data(0, Qt.ItemDataRole.UserRole)
        return next((g for g in self.explorer.groups if g.name == name), None)

    def set_current(self, name: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == name:
                self.tree.setCurrentItem(item)
                return
        raise KeyError(name)

    def applies(self, group) -> bool:
        return any(g is group for g in self.explorer.applicable_groups())

    @Slot()
    def apply_filter(self) -> None:
        """Look the filter up: its matches are marked on the canvas and counted."""
        self._filter_timer.stop()
        e, text = self.explorer, self.filter.text().strip()
        self.matches = None
        if not text or e.encodings is None:
            self.match_label.setText("" if not text else "No codes yet")
            if e.highlight_text.startswith("filter"):
                e.set_highlight([])
        else:
            try:
                self.matches = select(e.encodings, text)
            except VaeStudioError as err:
                self.match_label.setText(str(err))
                if e.highlight_text.startswith("filter"):
                    e.set_highlight([])
            else:
                self.match_label.setText(f"{len(self.matches):,} of {len(e.encodings):,} match")
                e.set_highlight(self.matches, f"filter {text}")
        self.select_matches_button.setEnabled(self.matches is not None and len(self.matches) > 0)

    def select_matches(self) -> None:
        self.apply_filter()
        if self.matches is not None:
            self.explorer.set_selection(self.matches)

    def save_selection(self, name: Optional[str] = None) -> bool:
        """Save the selection as a group named `name` (asked for when None)."""
        e = self.explorer
        if not e.selection.size:
            self._error("Nothing is selected: draw a lasso or a rectangle on the canvas, or Select a filter's "
                        "matches")
            return False
        if name is None:
            name = ask_group_name(self.window(), "Save Selection as Group", self._suggested_name())
            if name is None:
                return False
        try:
            group = e.add_group(name, e.selection)
        except VaeStudioError as err:
            self._error(f"Cannot save the group: {err}")
            return False
        self.set_current(group.name)
        return True

    def show_group(self) -> None:
        g = self.current_group()
        if g is None or not self.applies(g):
            return
        self.explorer.set_highlight(g.indices, f"group {g.name}")

    def rename_group(self, name: Optional[str] = None) -> bool:
        g = self.current_group()
        if g is None:
            return False
        if name is None:
            name = ask_group_name(self.window(), "Rename Group", g.name)
            if name is None:
                return False
        try:
            renamed = self.explorer.rename_group(g.name, name)
        except VaeStudioError as err:
            self._error(f"Cannot rename the group: {err}")
            return False
        self.set_current(renamed.name)
        return True

    def delete_group(self) -> None:
        g = self.current_group()
        if g is not None:
            if self.explorer.highlight_text == f"group {g.name}":
                self.explorer.set_highlight([])
            self.explorer.remove_group(g.name)

    def export_group(self, path: Optional[str] = None) -> bool:
        """Write the current group's indices (.txt one per line, or .npy)."""
        g = self.current_group()
        if g is None:
            return False
        if path is None:
            path = choose_index_save(self.window(), str(Path(self.folder) / f"{_file_stem(g.name)}.txt"))
            if not path:
                return False
        try:
            write_index_file(path, g.indices, comment=f"group {g.name!r} of {g.dataset or 'a data set'}, "
                                                     f"{g.split} split")
        except VaeStudioError as err:
            self._error(str(err), "Export failed")
            return False
        self.folder = str(Path(path).parent)
        self._status(f"Wrote {len(g):,} indices of {g.name!r} to {path}")
        return True

    def import_group(self, path: Optional[str] = None, name: Optional[str] = None) -> bool:
        """A group from a file of indices into the explored split; a bad file is refused with a
        dialog naming it, and the groups stay as they were."""
        e = self.explorer
        if e.dataset is None:
            self._error("Open a data set first: indices refer to its images")
            return False
        if path is None:
            path = choose_index_file(self.window(), self.folder)
            if not path:
                return False
        try:
            rows = read_index_file(path, e.split_size())
        except VaeStudioError as err:
            self._error(str(err), "Import failed")
            return False
        self.folder = str(Path(path).parent)
        if name is None:
            name = ask_group_name(self.window(), "Import Group", Path(path).stem[:60])
            if name is None:
                return False
        try:
            group = e.add_group(name, rows)
        except VaeStudioError as err:
            self._error(f"Cannot add the group from {path}: {err}", "Import failed")
            return False
        self.set_current(group.name)
        return True

    def add_to_mixer(self) -> Optional[str]:
        """Put the vector from the first chosen group to the second in the mixer, ticked."""
        a, b = self.from_combo.currentText(), self.to_combo.currentText()
        if not a or not b:
            self._hint_vector("Save two groups first")
            return None
        if a == b:
            self._hint_vector("Choose two different groups")
            return None
        if self.mixer is None:
            return None
        name = self.mixer.add_group_vector(a, b)
        self.vector_added.emit(name)
        return name

    # -- reactions ----------------------------------------------------------------------------
    @Slot()
    def _show_selection(self) -> None:
        n = int(self.explorer.selection.size)
        self.selection_label.setText(f"{n:,} selected" if n else "Nothing selected")
        self.save_button.setEnabled(n > 0)

    @Slot()
    def _on_encodings(self) -> None:
        if self.filter.text().strip():
            self.apply_filter()
        self._fill()

    @Slot()
    def _fill(self) -> None:
        """The list: applicable groups first, then those of other data sets (greyed)."""
        e = self.explorer
        current = self.tree.currentItem()
        keep = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        usable = e.applicable_groups()
        usable_ids = {id(g) for g in usable}
        others = [g for g in e.groups if id(g) not in usable_ids]
        self.tree.blockSignals(True)
        self.tree.clear()
        grey = QBrush(QColor("#8a8a8a"))
        for g in usable + others:
            item = QTreeWidgetItem([g.name, f"{len(g):,}"])
            item.setData(0, Qt.ItemDataRole.UserRole, g.name)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if id(g) not in usable_ids:
                item.setText(0, f"{g.name} (other data)")
                for col in (0, 1):
                    item.setForeground(col, grey)
                    item.setToolTip(col, f"{OTHER_DATASET} ({g.dataset or '?'}, {g.split})")
            else:
                item.setToolTip(0, f"{len(g):,} images of the {g.split} split of {g.dataset or 'this data set'}")
            self.tree.addTopLevelItem(item)
            if g.name == keep:
                self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        names = [g.name for g in usable]
        for combo, pick in ((self.from_combo, 0), (self.to_combo, 1)):
            was = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            if was in names:
                combo.setCurrentIndex(names.index(was))
            elif len(names) > pick:
                combo.setCurrentIndex(pick)
            combo.blockSignals(False)
        problems = e.group_problems
        self.problems.setText("" if not problems else
                              f"{len(problems)} saved group{'s' if len(problems) > 1 else ''} could not be read")
        self.problems.setToolTip("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self._hint_vector("" if len(names) >= 2 else "Save two groups for a vector")
        self._update_buttons()

    def _update_buttons(self) -> None:
        g = self.current_group()
        has = g is not None
        usable = has and self.applies(g)
        self.show_button.setEnabled(usable)
        for b in (self.rename_button, self.delete_button, self.export_button):
            b.setEnabled(has)
        self.import_button.setEnabled(self.explorer.dataset is not None)
        self.add_button.setEnabled(self.from_combo.count() >= 2 and self.mixer is not None)
        self.select_matches_button.setEnabled(self.matches is not None and len(self.matches) > 0)

    # -- internals ------------------------------------------------------------------------------
    def _hint_vector(self, text: str) -> None:
        self.vector_hint.setText(text)

    def _suggested_name(self) -> str:
        taken = {g.name.lower() for g in self.explorer.groups}
        k = len(self.explorer.groups) + 1
        while f"group {k}" in taken:
            k += 1
        return f"Group {k}"

    def _error(self, message: str, title: str = "Groups") -> None:
        self.last_error = message
        dialogs.show_error(self.window(), title, message)

    def _status(self, text: str) -> None:
        status = getattr(self.window(), "statusBar", None)
        if callable(status):
            status().showMessage(text, 6000)


def _file_stem(name: str) -> str:
    """A file name from a group name: letters, digits, '-' and '_' kept, the rest '-'."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")
    return stem or "group"

