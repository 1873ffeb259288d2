"""The attribute mixer: add weighted attribute vectors to a base image's code and watch the
decode change ("more smile, less glasses"); for a data set with labels only, each label is an
attribute ("is a 7").

Vectors come from the core (`attribute_vectors`, optionally balanced on the other chosen
attributes). The live result is one decode in the GUI thread; the sweep strip, from the base
(alpha 0) to the mix (alpha 1), decodes in the worker.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ...core.errors import VaeStudioError
from ...core.latent import apply_vector, attribute_vectors, combine, sweep_alphas
from ...core.latent.groups import ARROW, find_group, group_vector, parse_vector_name, vector_name
from .explorer import Explorer
from .grids import decode_grid, wrap_columns
from .image_picker import ImagePicker
from .image_view import ImageView
from .preview import caption_label

SLIDER_STEPS = 100  # slider units per 1.0 of alpha
MAX_ALPHA = 3.0
DEFAULT_ALPHA = 1.0
DEFAULT_SWEEP = 8
LIST_MAX = 80
RESULT_SIDE = 100
FILTER_ABOVE = 12  # attributes; fewer fit the list without one


def with_article(name: str) -> str:
    """"is a 7", "is an 8", "is an ankle boot"."""
    an = name[:1].lower() in "aeio8" or name in ("11", "18")
    return f"is {'an' if an else 'a'} {name}"


def mixable_names(enc) -> list[tuple[str, str]]:
    """(name for the core, text for the list): the attributes, else one per label."""
    if enc is None:
        return []
    if enc.attribute_names:
        return [(n, n.replace("_", " ")) for n in enc.attribute_names]
    if enc.labels is not None:
        k = int(enc.labels.max()) + 1 if len(enc.labels) else 0
        names = enc.label_names or [str(i) for i in range(k)]
        return [(str(n), with_article(str(n))) for n in names[:k]]
    return []


class WeightRow(QWidget):
    """One chosen attribute: a slider for its weight alpha and the value."""

    def __init__(self, on_change, parent: Optional[QWidget] = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(int(-MAX_ALPHA * SLIDER_STEPS), int(MAX_ALPHA * SLIDER_STEPS))
        self.slider.setValue(int(DEFAULT_ALPHA * SLIDER_STEPS))
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(SLIDER_STEPS)
        self.value = QLabel()
        self.value.setMinimumWidth(self.value.fontMetrics().horizontalAdvance("−0.00") + 4)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.slider, 1)
        row.addWidget(self.value)
        self.slider.valueChanged.connect(self._show)
        self.slider.valueChanged.connect(on_change)
        self._show()

    @property
    def alpha(self) -> float:
        return self.slider.value() / SLIDER_STEPS

    def _show(self, *_) -> None:
        self.value.setText(f"{self.alpha:+.2f}".replace("-", "−"))


class AttributeMixer(QWidget):
    def __init__(self, explorer: Explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.rows: dict[str, WeightRow] = {}
        self.result_image: Optional[np.ndarray] = None  # float (C, H, W), the live result
        self.sweep_images: Optional[np.ndarray] = None
        self._vectors_key = None
        self._vectors: list = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter attributes")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter)
        self.list = QListWidget()
        self.list.setObjectName("attributeList")
        self.list.setMaximumHeight(LIST_MAX)
        self.list.itemChanged.connect(self._on_item_changed)
        layout.addWidget(self.list)
        self.balance = QCheckBox("Balance on the other chosen attributes")
        self.balance.setToolTip("Take each attribute's vector within every combination of the others, "
                                "so correlated attributes leak less into it")
        self.balance.toggled.connect(self.update_result)
        layout.addWidget(self.balance)
        self.weights = QFormLayout()
        self.weights.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.weights)
        self.hint = caption_label("Tick attributes to mix them")
        layout.addWidget(self.hint)

        self.base = ImagePicker(explorer, "Base", index=0, seed=1)
        self.base.changed.connect(self.update_result)
        layout.addWidget(self.base)

        outputs = QGridLayout()
        outputs.setContentsMargins(0, 4, 0, 0)
        self.result_view = ImageView("", min_side=72)
        self.result_view.setObjectName("mixerResult")
        self.result_view.setFixedSize(RESULT_SIDE, RESULT_SIDE)
        self.strip_view = ImageView("", min_side=48)
        self.strip_view.setObjectName("mixerSweep")
        self.strip_view.setMinimumHeight(RESULT_SIDE)
        outputs.addWidget(self.result_view, 0, 0)
        outputs.addWidget(self.strip_view, 0, 1)
        outputs.addWidget(caption_label("With the mix"), 1, 0)
        outputs.addWidget(caption_label("From the base to the mix"), 1, 1)
        outputs.setColumnStretch(1, 1)
        layout.addLayout(outputs)

        sweep_row = QHBoxLayout()
        sweep_row.addWidget(QLabel("Sweep"))
        self.steps = QSpinBox()
        self.steps.setRange(2, 64)
        self.steps.setValue(DEFAULT_SWEEP)
        self.steps.setSuffix(" steps")
        self.steps.setToolTip("Frames from the base (alpha 0) to the full mix (alpha 1)")
        self.steps.valueChanged.connect(self._request_sweep)
        sweep_row.addWidget(self.steps)
        sweep_row.addStretch(1)
        self.export_strip_button = QToolButton()
        self.export_strip_button.setText("PNG…")
        self.export_strip_button.setToolTip("Save the sweep as a strip")
        self.export_anim_button = QToolButton()
        self.export_anim_button.setText("GIF / MP4…")
        self.export_anim_button.setToolTip("Save the sweep as an animation")
        sweep_row.addWidget(self.export_strip_button)
        sweep_row.addWidget(self.export_anim_button)
        layout.addLayout(sweep_row)
        layout.addStretch(1)

        explorer.encodings_changed.connect(self._on_encodings)
        explorer.decoder_changed.connect(self.update_result)
        explorer.runner.finished.connect(self._on_job)
        self.group_vectors: list[tuple[str, str]] = []  # (A, B) added from the Groups dock
        explorer.encodings_changed.connect(self._sync_group_items)
        explorer.groups_changed.connect(self._sync_group_items)
        explorer.group_renamed.connect(self._on_group_renamed)
        self._on_encodings()

    # -- public ---------------------------------------------------------------------------
    def chosen(self) -> list[str]:
        return list(self.rows)

    def set_chosen(self, name: str, on: bool = True) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                return
        raise KeyError(name)

    def mix_delta(self) -> Optional[np.ndarray]:
        """sum_i alpha_i * vector_i for the chosen attributes (None when none is chosen)."""
        vectors = self._current_vectors()
        if not vectors:
            return None
        return combine(vectors, [row.alpha for row in self.rows.values()])

    def sweep_latents(self, steps: int) -> Optional[np.ndarray]:
        """`steps` codes from the base (alpha 0) to the base plus the mix (alpha 1)."""
        z, delta = self.base.latent(), self.mix_delta()
        if z is None:
            return None
        return apply_vector(z, np.zeros_like(z) if delta is None else delta, sweep_alphas(steps, 1.0))

    def sweep_labels(self, steps: int) -> list[str]:
        return [f"×{a:.2f}" for a in sweep_alphas(steps, 1.0)]

    # -- reactions ------------------------------------------------------------------------
    @Slot()
    def update_result(self, *_) -> None:
        e = self.explorer
        z = self.base.latent()
        if z is None or e.model is None:
            self.result_image = None
            self.result_view.set_image(None)
            return
        try:
            delta = self.mix_delta()
        except VaeStudioError as err:
            self._hint(str(err))
            delta = None
        else:
            self._hint("" if self.rows else "Tick attributes to mix them")
        self.result_image = e.decode(z if delta is None else z + delta)
        self.result_view.set_image(self.result_image)
        self._request_sweep()

    @Slot()
    def _on_encodings(self) -> None:
        names = mixable_names(self.explorer.encodings)
        current = [(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())]
        current = [n for n in current if parse_vector_name(n) is None]  # group vectors come and go apart
        self._vectors_key = None
        if [n for n, _ in names] != current:  # a new data set: a new list
            self.list.blockSignals(True)
            self.list.clear()
            for name, text in names:
                item = QListWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                self.list.addItem(item)
            self.list.blockSignals(False)
            for name in list(self.rows):
                self._remove_row(name)
            self._apply_filter(self.filter.text())
            self.filter.setVisible(len(names) > FILTER_ABOVE)
        self.setEnabled(bool(names) or self.explorer.encodings is None)
        if self.explorer.encodings is not None and not names:
            self._hint("This data set has neither attributes nor labels to mix")
        self.update_result()

    @Slot(QListWidgetItem)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked and name not in self.rows:
            row = WeightRow(self.update_result)
            self.rows[name] = row
            self.weights.addRow(item.text(), row)
        elif item.checkState() != Qt.CheckState.Checked and name in self.rows:
            self._remove_row(name)
        self.update_result()

    @Slot(str, object)
    def _on_job(self, key: str, result) -> None:
        if key == "mixer-sweep" and result is not None:
            self.sweep_images, strip = result
            self.strip_view.set_image(strip)

    # -- internals ------------------------------------------------------------------------
    def _hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def _remove_row(self, name: str) -> None:
        row = self.rows.pop(name)
        self.weights.removeRow(row)

    def _apply_filter(self, text: str) -> None:
        t = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(t) and t not in item.text().lower())

    def _current_vectors(self) -> list:
        enc = self.explorer.encodings
        names = self.chosen()
        if enc is None or not names:
            return []
        groups = self.explorer.applicable_groups()
        key = (tuple(names), self.balance.isChecked(), id(enc), tuple(id(g) for g in groups))
        if key != self._vectors_key:
            self._vectors = self._vectors_for(enc, names, groups)
            self._vectors_key = key
        return self._vectors

    # -- group vectors (from the Groups dock) ------------------------------------------------
    def _vectors_for(self, enc, names: list[str], groups: list) -> list:
        """One vector per chosen name, in the list's order: attributes as the core makes them;
        a group vector mean(B) - mean(A), balanced on the chosen attributes when Balance is on
        and the data set has attributes."""
        pairs = {n: parse_vector_name(n) for n in names}
        attrs = [n for n in names if pairs[n] is None]
        balance = self.balance.isChecked()
        by_name = dict(zip(attrs, attribute_vectors(enc, attrs, balance=balance))) if attrs else {}
        balance_on = attrs if balance and enc.attribute_names else []
        for n, pair in pairs.items():
            if pair is None:
                continue
            a, b = (find_group(groups, x) for x in pair)
            missing = [x for x, g in zip(pair, (a, b)) if g is None]
            if missing:
                raise VaeStudioError(f"no group named {missing[0]!r} on this data set")
            by_name[n] = group_vector(enc, a, b, balance_on=balance_on, name=f"{a.name} {ARROW} {b.name}")
        return [by_name[n] for n in names]

    def add_group_vector(self, a: str, b: str) -> str:
        """Put the vector from group `a` to group `b` in the list, ticked; its name there."""
        name = vector_name(a, b)
        if (a, b) not in self.group_vectors:
            self.group_vectors.append((a, b))
        self._sync_group_items()
        self.set_chosen(name)
        return name

    @Slot(str, str)
    def _on_group_renamed(self, old: str, new: str) -> None:
        """A renamed group's vectors stay in the list under the new name, ticked as they were
        and at the same weight."""
        weights = {}
        pairs = []
        for a, b in self.group_vectors:
            na, nb = (new if a == old else a), (new if b == old else b)
            row = self.rows.get(vector_name(a, b))
            if (na, nb) != (a, b) and row is not None:
                weights[vector_name(na, nb)] = row.slider.value()
            pairs.append((na, nb))
        self.group_vectors = pairs
        self._sync_group_items()
        for name, value in weights.items():
            self.set_chosen(name)
            self.rows[name].slider.setValue(value)

    @Slot()
    def _sync_group_items(self) -> None:
        """The list holds one item per added group vector whose two groups apply here."""
        known = {g.name for g in self.explorer.applicable_groups()}
        if self.explorer.encodings is None:
            known = set()
        self.group_vectors = [(a, b) for a, b in self.group_vectors if {a, b} <= {g.name for g in self.explorer.groups}]
        wanted = [vector_name(a, b) for a, b in self.group_vectors if a in known and b in known]
        present = {}
        for i in reversed(range(self.list.count())):
            item = self.list.item(i)
            name = item.data(Qt.ItemDataRole.UserRole)
            if parse_vector_name(name) is not None:
                if name in wanted:
                    present[name] = item
                else:
                    if name in self.rows:
                        self._remove_row(name)
                    self.list.takeItem(i)
        for name in wanted:
            if name not in present:
                a, b = parse_vector_name(name)
                item = QListWidgetItem(f"{a} {ARROW} {b} (groups)")
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setToolTip(f"The mean code of group {b!r} minus that of group {a!r}")
                self.list.blockSignals(True)
                self.list.addItem(item)
                self.list.blockSignals(False)
        self.filter.setVisible(self.list.count() > FILTER_ABOVE)
        if self.list.count():
            self.setEnabled(True)
        self._vectors_key = None
        self.update_result()

    def _request_sweep(self, *_) -> None:
        e = self.explorer
        steps = self.steps.value()
        try:
            z = self.sweep_latents(steps)
        except VaeStudioError:
            z = None
        if z is None or e.model is None:
            e.runner.discard("mixer-sweep")
            self.strip_view.set_image(None)
            return
        model = e.model
        e.runner.submit("mixer-sweep", lambda cancel: decode_grid(model, z, wrap_columns(len(z), 4), None, cancel))
