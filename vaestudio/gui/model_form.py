"""The settings of a model and of its training, as a form, with the classic presets.

It converts between widgets and the core's `ModelConfig` / `TrainConfig`; the core validates.
The model half is locked while a model exists (its architecture is fixed once trained);
Train > New Model... unlocks it.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QSpinBox,
                               QVBoxLayout, QWidget)

from ..core.config import ModelConfig, Preset, TrainConfig, presets
from ..core.errors import ConfigError

KINDS = (("VAE (variational)", "vae"), ("Autoencoder", "ae"))
ARCHS = (("MLP", "mlp"), ("Convolutional", "conv"))
LIKELIHOODS = (("Bernoulli (grey images)", "bernoulli"), ("Gaussian, σ = 0.1", "gaussian"))
DEVICES = (("Automatic", "auto"), ("CPU", "cpu"), ("CUDA GPU", "cuda"), ("Apple GPU (MPS)", "mps"))


def _combo(items, name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(12)
    for text, value in items:
        box.addItem(text, value)
    return box


def _select(box: QComboBox, value) -> None:
    i = box.findData(value)
    if i >= 0:
        box.setCurrentIndex(i)


def _spin(name: str, lo: int, hi: int, value: int, suffix: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setObjectName(name)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setSuffix(suffix)
    s.setAccelerated(True)
    return s


def parse_hidden(text: str) -> tuple[int, ...]:
    """'500, 250' -> (500, 250)."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"hidden sizes must be whole numbers separated by commas, not {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise ConfigError("give at least one hidden layer size of 1 or more, e.g. 500, 250")
    return sizes


class ModelSettingsForm(QWidget):
    """Preset chooser, model settings and training settings."""

    preset_applied = Signal(object)  # Preset

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self._presets: list[Preset] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 4, 0)

        self.preset = _combo((), "presetCombo")
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        self.preset_note.setStyleSheet("color: palette(mid);")
        self.preset_note.hide()
        box = QGroupBox("Preset")
        lay = QVBoxLayout(box)
        lay.addWidget(self.preset)
        lay.addWidget(self.preset_note)
        outer.addWidget(box)

        self.model_box = QGroupBox("Model")
        form = QFormLayout(self.model_box)
        self.kind = _combo(KINDS, "kindCombo")
        self.arch = _combo(ARCHS, "archCombo")
        self.latent_dim = _spin("latentDimSpin", 1, 1024, 2)
        self.hidden = QLineEdit("400")
        self.hidden.setObjectName("hiddenEdit")
        self.hidden.setToolTip("MLP hidden layer sizes, encoder order; the decoder mirrors them")
        self.conv_width = _spin("convWidthSpin", 1, 512, 32)
        self.conv_width.setToolTip("channels of the first conv layer; they double per layer")
        self.beta = QDoubleSpinBox()
        self.beta.setObjectName("betaSpin")
        self.beta.setRange(0.0, 1000.0)
        self.beta.setDecimals(2)
        self.beta.setSingleStep(0.1)
        self.beta.setValue(1.0)
        self.beta.setToolTip("weight on the KL term (β-VAE); 1 is the plain VAE")
        self.kl_warmup = _spin("klWarmupSpin", 0, 10000, 0, " epochs")
        self.kl_warmup.setToolTip("ramp the KL weight from 0 to β over this many epochs")
        self.likelihood = _combo(LIKELIHOODS, "likelihoodCombo")
        self.lock_note = QLabel("Trained models keep their architecture: Train ▸ New Model... to change it.")
        self.lock_note.setWordWrap(True)
        self.lock_note.setStyleSheet("color: palette(mid);")
        self.lock_note.hide()
        form.addRow("Type", self.kind)
        form.addRow("Backbone", self.arch)
        form.addRow("Latent dimension", self.latent_dim)
        form.addRow("Hidden sizes", self.hidden)
        form.addRow("Conv width", self.conv_width)
        form.addRow("β (KL weight)", self.beta)
        form.addRow("KL warm-up", self.kl_warmup)
        form.addRow("Likelihood", self.likelihood)
        form.addRow(self.lock_note)
        self._model_form = form
        outer.addWidget(self.model_box)

        self.train_box = QGroupBox("Training")
        tform = QFormLayout(self.train_box)
        self.epochs = _spin("epochsSpin", 1, 100000, 10)
        self.epochs.setToolTip("Start trains this many more epochs")
        self.batch_size = _spin("batchSizeSpin", 1, 65536, 128)
        self.lr = QDoubleSpinBox()
        self.lr.setObjectName("lrSpin")
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 1.0)
        self.lr.setSingleStep(0.0001)
        self.lr.setValue(0.001)
        self.device = _combo(DEVICES, "deviceCombo")
        tform.addRow("Epochs", self.epochs)
        tform.addRow("Batch size", self.batch_size)
        tform.addRow("Learning rate", self.lr)
        tform.addRow("Device", self.device)
        outer.addWidget(self.train_box)
        outer.addStretch(1)

        self.arch.currentIndexChanged.connect(self._update_enabled)
        self.kind.currentIndexChanged.connect(self._update_enabled)
        self.preset.activated.connect(self._on_preset_chosen)
        self._applying = False
        for box in (self.kind, self.arch, self.likelihood, self.device):
            box.currentIndexChanged.connect(self._on_edited)
        for spin in (self.latent_dim, self.conv_width, self.beta, self.kl_warmup, self.epochs, self.batch_size, self.lr):
            spin.valueChanged.connect(self._on_edited)
        self.hidden.textChanged.connect(self._on_edited)
        self._locked = False
        self.set_presets(presets(have_gpu=False))
        self.apply_preset(self._presets[0])  # start from the classic set-up
        self._update_enabled()

    # -- presets ----------------------------------------------------------------------------
    def set_presets(self, items: list[Preset]) -> None:
        """Offer `items`, keeping the current choice (the list changes when a GPU is found)."""
        current = self.preset.currentIndex()
        self._presets = list(items)
        self.preset.blockSignals(True)
        self.preset.clear()
        self.preset.addItem("Custom settings")
        for p in self._presets:
            self.preset.addItem(p.name)
            self.preset.setItemData(self.preset.count() - 1, p.description)
        self.preset.setCurrentIndex(max(0, min(current, self.preset.count() - 1)))
        self.preset.blockSignals(False)

    def presets(self) -> list[Preset]:
        return list(self._presets)

    def apply_preset(self, preset: Preset) -> None:
        self._applying = True
        try:
            if not self._locked:
                self.set_model_config(preset.model)
            self.set_train_config(preset.train)
        finally:
            self._applying = False
        i = self.preset.findText(preset.name)
        if i >= 0:
            self.preset.setCurrentIndex(i)
        self.preset_note.setText(f"{preset.description}. Made for the '{preset.dataset}' data set.")
        self.preset_note.show()
        self.preset_applied.emit(preset)

    def _on_edited(self, *_) -> None:
        """A setting changed by hand (or by opening a model): no longer the preset as shown."""
        if not self._applying and self.preset.currentIndex() != 0:
            self.preset.setCurrentIndex(0)
            self.preset_note.hide()

    def _on_preset_chosen(self, index: int) -> None:
        if index >= 1:
            self.apply_preset(self._presets[index - 1])
        else:
            self.preset_note.hide()

    # -- widgets <-> configs ------------------------------------------------------------------
    def model_config(self, image_shape) -> ModelConfig:
        """The model these settings describe, for images of `image_shape` (C, H, W)."""
        arch = self.arch.currentData()
        return ModelConfig(
            kind=self.kind.currentData(), arch=arch, image_shape=tuple(image_shape),
            latent_dim=self.latent_dim.value(),
            hidden=parse_hidden(self.hidden.text()) if arch == "mlp" else ModelConfig().hidden,
            conv_width=self.conv_width.value(), likelihood=self.likelihood.currentData(),
            beta=self.beta.value(), kl_warmup_epochs=self.kl_warmup.value(),
        )

    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(),
                           lr=float(self.lr.value()), device=self.device.currentData())

    def set_model_config(self, cfg: ModelConfig) -> None:
        _select(self.kind, cfg.kind)
        _select(self.arch, cfg.arch)
        self.latent_dim.setValue(cfg.latent_dim)
        self.hidden.setText(", ".join(str(h) for h in cfg.hidden))
        self.conv_width.setValue(cfg.conv_width)
        self.beta.setValue(cfg.beta)
        self.kl_warmup.setValue(cfg.kl_warmup_epochs)
        _select(self.likelihood, cfg.likelihood)
        self._update_enabled()

    def set_train_config(self, cfg: TrainConfig) -> None:
        self.epochs.setValue(max(1, cfg.epochs))
        self.batch_size.setValue(cfg.batch_size)
        self.lr.setValue(cfg.lr)
        _select(self.device, cfg.device)

    def suit_images(self, channels: int) -> None:
        """Pick the likelihood that fits a data set's images (unless the model is locked)."""
        if not self._locked:
            _select(self.likelihood, "bernoulli" if channels == 1 else "gaussian")

    # -- enabled state --------------------------------------------------------------------------
    def set_model_locked(self, locked: bool) -> None:
        self._locked = locked
        self.lock_note.setVisible(locked)
        self._update_enabled()

    @property
    def model_locked(self) -> bool:
        return self._locked

    def set_busy(self, busy: bool) -> None:
        """While training, nothing here may change."""
        self.setEnabled(not busy)

    def _update_enabled(self) -> None:
        free = not self._locked
        mlp = self.arch.currentData() == "mlp"
        vae = self.kind.currentData() == "vae"
        for w in (self.kind, self.arch, self.latent_dim, self.likelihood):
            w.setEnabled(free)
        self.hidden.setEnabled(free and mlp)
        self.conv_width.setEnabled(free and not mlp)
        self.beta.setEnabled(free and vae)
        self.kl_warmup.setEnabled(free and vae)
        self._model_form.setRowVisible(self.hidden, mlp)
        self._model_form.setRowVisible(self.conv_width, not mlp)
