"""The settings of a model and of its training, as a form, with the classic presets.

It converts between widgets and the core's model configs / `TrainConfig`; the core validates.
The kinds come from the core's registry, and each kind's own settings (a VAE's β and KL
warm-up) are built from its config dataclass, so a new kind needs no change here.
The model half is locked while a model exists (its architecture is fixed once trained);
Train > New Model... unlocks it. "Epochs" is the total the run trains to.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QSpinBox,
                               QVBoxLayout, QWidget)

from ..core import config as core_config
from ..core.config import ModelConfig, Preset, TrainConfig, kind_options, presets
from ..core.errors import ConfigError
from ..core.kinds import get_kind, kind_names, make_model_config

# How the window names the core's allowed values (the values themselves come from the core).
_TITLES = {"mlp": "MLP", "conv": "Convolutional", "bernoulli": "Bernoulli (grey images)",
           "gaussian": "Gaussian, σ = 0.1", "auto": "Automatic", "cpu": "CPU", "cuda": "CUDA GPU",
           "mps": "Apple GPU (MPS)", "learned": "Learned on the data set", "vgg19": "VGG19 (ImageNet weights)"}
ARCHS = tuple((_TITLES.get(v, v), v) for v in core_config.ARCHS)
LIKELIHOODS = tuple((_TITLES.get(v, v), v) for v in core_config.LIKELIHOODS)
DEVICES = tuple((_TITLES.get(v, v), v) for v in core_config.DEVICES)
PRECISIONS = (("fp32 (exact)", "fp32"), ("bf16 (mixed)", "bf16"), ("fp16 (mixed, scaled)", "fp16"))


def device_items() -> tuple:
    """The Device choices, the CUDA one named by its GPU and memory when torch sees one
    ("GPU 0: NVIDIA H100 (79 GB)"), and the tooltip that lists every GPU."""
    from ..core.device import cuda_labels

    gpus = cuda_labels()
    items = tuple((gpus[0] if v == "cuda" and gpus else title, v) for title, v in DEVICES)
    tip = "Where training runs: Automatic picks a GPU when torch finds one, else the CPU"
    tip += ("\n" + "\n".join(gpus)) if gpus else " (torch sees no CUDA GPU here)"
    return items, tip


def _has_gpu() -> bool:
    from ..core.device import cuda_labels

    return bool(cuda_labels())


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


class _OptionCombo(QComboBox):
    """A kind's text setting with `choices`, speaking a spin box's value()/setValue()/valueChanged."""

    valueChanged = Signal(object)

    def __init__(self, choices):
        super().__init__()
        for v in choices:
            self.addItem(_TITLES.get(v, v), v)
        self.currentIndexChanged.connect(lambda _i: self.valueChanged.emit(self.value()))

    def value(self):
        return self.currentData()

    def setValue(self, value) -> None:
        _select(self, value)


class _OptionText(QLineEdit):
    """A kind's free-text setting (e.g. a file path), speaking a spin box's language."""

    valueChanged = Signal(object)

    def __init__(self, text: str):
        super().__init__(text)
        self.setMaxLength(core_config.MAX_OPTION_TEXT)
        self.textChanged.connect(lambda text: self.valueChanged.emit(text))

    def value(self) -> str:
        return self.text().strip()

    def setValue(self, value) -> None:
        self.setText(str(value))


def _option_widget(f) -> QWidget:
    """A widget for a kind's own setting as its `option(...)` declares it: a bounded spin box for a
    number, a combo box for text with choices, a line edit for free text."""
    meta = f.metadata
    if isinstance(f.default, bool):
        raise TypeError("boolean kind options need a check box")  # none yet
    if isinstance(f.default, str):
        w = _OptionCombo(meta["choices"]) if meta.get("choices") else _OptionText(f.default)
        w.setObjectName(f"{f.name}Option")
        w.setValue(f.default)
    elif isinstance(f.default, int):
        w = _spin(f"{f.name}Option", int(meta["lo"] if meta["lo"] is not None else 0),
                  int(meta["hi"] if meta["hi"] is not None else 1_000_000), int(f.default))
    else:
        w = QDoubleSpinBox()
        w.setObjectName(f"{f.name}Option")
        w.setDecimals(3)
        w.setRange(float(meta["lo"] if meta["lo"] is not None else -1e6),
                   float(meta["hi"] if meta["hi"] is not None else 1e6))
        w.setSingleStep(0.1)
        w.setValue(float(f.default))
    w.setToolTip(meta["help"])
    return w


def _made_for(preset: Preset) -> str:
    """Which data set a preset suits, by title: a preset named for MNIST or CelebA says so and
    names the built-in set that stands in for it without a download."""
    from ..core.data.registry import dataset_info

    try:
        title = dataset_info(preset.dataset).title
    except Exception:  # noqa: BLE001 -- an unknown name is shown as it is
        title = preset.dataset
    if title.endswith(" (built in)"):
        title = f"built-in {title[:-len(' (built in)')]}"
    real = next((n for n in ("MNIST", "CelebA") if preset.name.startswith(n)), "")
    if real:
        return f"Made for {real}; the {title} data set suits it too, with no download."
    return f"Made for the {title} data set."


class ModelSettingsForm(QWidget):
    """Preset chooser, model settings and training settings."""

    preset_applied = Signal(object)  # Preset
    train_settings_changed = Signal()  # epochs, batch size, learning rate or device edited

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
        self.kind = _combo(tuple((get_kind(k).title, k) for k in kind_names()), "kindCombo")
        self.arch = _combo(ARCHS, "archCombo")
        self.latent_dim = _spin("latentDimSpin", 1, 1024, 2)
        self.hidden = QLineEdit("400")
        self.hidden.setObjectName("hiddenEdit")
        self.hidden.setToolTip("MLP hidden layer sizes, encoder order; the decoder mirrors them")
        self.conv_width = _spin("convWidthSpin", 1, 512, 32)
        self.conv_width.setToolTip("channels of the first conv layer; they double per layer")
        self.likelihood = _combo(LIKELIHOODS, "likelihoodCombo")
        self.likelihood.setToolTip(
            "How the decoder scores a pixel. Bernoulli (grey images): a probability, so its nats are "
            "never negative. Gaussian: a density of continuous values, whose -log can be negative "
            "(e.g. -7,869 nats per image on faces); it is not comparable with Bernoulli numbers, so "
            "the window also shows it in bits per dimension on the 0-255 grey levels.")
        self.preset.setToolTip("Classic set-ups: choosing one fills in every setting below (and opens its data "
                               "set when it names one)")
        self.kind.setToolTip("What is trained: a plain autoencoder, a VAE, or a VAE with a sharper "
                             "reconstruction term (feature-consistent DFC-VAE, adversarial VAE-GAN)")
        self.arch.setToolTip("The encoder and decoder networks: fully connected layers (MLP) for small "
                             "images, convolutions for larger or colour ones")
        self.latent_dim.setToolTip("How many numbers encode an image; 2 can be plotted directly, more are "
                                   "viewed through a plane (coordinate pairs or PCA)")
        self.lock_note = QLabel("Trained models keep their architecture: Train ▸ New Model... to change it.")
        self.lock_note.setWordWrap(True)
        self.lock_note.setStyleSheet("color: palette(mid);")
        self.lock_note.hide()
        form.addRow("Type", self.kind)
        form.addRow("Backbone", self.arch)
        form.addRow("Latent dimension", self.latent_dim)
        form.addRow("Hidden sizes", self.hidden)
        form.addRow("Conv width", self.conv_width)
        form.addRow("Likelihood", self.likelihood)
        # Each kind's own settings, built from its config dataclass: field name -> (widget, kinds having it)
        self.options: dict[str, tuple[QWidget, set]] = {}
        self._kind_defaults: dict[str, dict[str, object]] = {}  # field -> {kind: its default}
        for name in kind_names():
            for f in kind_options(get_kind(name).config_class):
                if f.name not in self.options:
                    w = _option_widget(f)
                    self.options[f.name] = (w, set())
                    form.addRow(f.metadata["label"], w)
                self.options[f.name][1].add(name)
                self._kind_defaults.setdefault(f.name, {})[name] = f.default
        form.addRow(self.lock_note)
        self._model_form = form
        outer.addWidget(self.model_box)

        self.train_box = QGroupBox("Training")
        tform = QFormLayout(self.train_box)
        self.epochs = _spin("epochsSpin", 1, 100000, 10)
        self.epochs.setToolTip("The total number of epochs the model trains to (not \"this many more\")")
        self.batch_size = _spin("batchSizeSpin", 1, 65536, 128)
        self.lr = QDoubleSpinBox()
        self.lr.setObjectName("lrSpin")
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 1.0)
        self.lr.setSingleStep(0.0001)
        self.lr.setValue(0.001)
        self.lr.setToolTip("Adam's learning rate; a change applies from the next Start on and is "
                           "recorded in the history")
        self.batch_size.setToolTip("Images per optimisation step; a change mid-epoch waits for the epoch's end")
        items, tip = device_items()
        self.device = _combo(items, "deviceCombo")
        self.device.setToolTip(tip)
        self.precision = _combo(PRECISIONS, "precisionCombo")
        self.precision.setToolTip("Arithmetic of a new model's training steps: fp32 is exact and reproducible; "
                                  "bf16 or fp16 (autocast, weights kept in fp32) pay off on a GPU for big conv nets "
                                  "(128x128 images, wide layers); small nets run slower in them. "
                                  "A model keeps the precision it was created with.")
        tform.addRow("Epochs (total)", self.epochs)
        tform.addRow("Batch size", self.batch_size)
        tform.addRow("Learning rate", self.lr)
        tform.addRow("Device", self.device)
        tform.addRow("Precision", self.precision)
        # Shown only where torch sees a GPU: small nets leave it idle between kernel launches.
        self.cuda_graph = QCheckBox("Replay steps as a CUDA graph")
        self.cuda_graph.setObjectName("cudaGraphCheck")
        self.cuda_graph.setToolTip("On a GPU, run each training step as one captured CUDA graph: several times "
                                   "faster for small nets (AE and VAE, fp32); not bit-identical to the plain step. "
                                   "Applies from the next Start.")
        tform.addRow("", self.cuda_graph)
        self._train_form = tform
        tform.setRowVisible(self.cuda_graph, _has_gpu())
        outer.addWidget(self.train_box)
        outer.addStretch(1)

        self.arch.currentIndexChanged.connect(self._update_enabled)
        self.kind.currentIndexChanged.connect(self._update_enabled)
        self.kind.currentIndexChanged.connect(self._take_kind_defaults)
        self.preset.activated.connect(self._on_preset_chosen)
        self._applying = False
        for box in (self.kind, self.arch, self.likelihood, self.device):
            box.currentIndexChanged.connect(self._on_edited)
        for spin in (self.latent_dim, self.conv_width, self.epochs, self.batch_size, self.lr,
                     *(w for w, _ in self.options.values())):
            spin.valueChanged.connect(self._on_edited)
        for w in (self.epochs, self.batch_size, self.lr):
            w.valueChanged.connect(self.train_settings_changed)
        self.device.currentIndexChanged.connect(self.train_settings_changed)
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
        self.preset_note.setText(f"{preset.description}. {_made_for(preset)}")
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
        kind, arch = self.kind.currentData(), self.arch.currentData()
        own = {name: w.value() for name, (w, kinds) in self.options.items() if kind in kinds}
        return make_model_config(
            kind=kind, arch=arch, image_shape=tuple(image_shape), latent_dim=self.latent_dim.value(),
            hidden=parse_hidden(self.hidden.text()) if arch == "mlp" else ModelConfig().hidden,
            conv_width=self.conv_width.value(), likelihood=self.likelihood.currentData(), **own,
        )

    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(),
                           lr=float(self.lr.value()), device=self.device.currentData(),
                           precision=self.precision.currentData())

    def cuda_graph_wanted(self) -> bool:
        """Whether the next Start should replay steps as a CUDA graph (the worker checks it can)."""
        return self._train_form.isRowVisible(self.cuda_graph) and self.cuda_graph.isChecked()

    def set_model_config(self, cfg: ModelConfig) -> None:
        _select(self.kind, cfg.kind)
        _select(self.arch, cfg.arch)
        self.latent_dim.setValue(cfg.latent_dim)
        self.hidden.setText(", ".join(str(h) for h in cfg.hidden))
        self.conv_width.setValue(cfg.conv_width)
        for name, (w, _kinds) in self.options.items():
            if hasattr(cfg, name):
                w.setValue(getattr(cfg, name))
        _select(self.likelihood, cfg.likelihood)
        self._update_enabled()

    def set_train_config(self, cfg: TrainConfig) -> None:
        self.epochs.setValue(max(1, cfg.epochs))
        self.batch_size.setValue(cfg.batch_size)
        self.lr.setValue(cfg.lr)
        _select(self.device, cfg.device)
        _select(self.precision, cfg.precision)

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

    def _take_kind_defaults(self, *_) -> None:
        """A setting several kinds share but with different defaults (e.g. the pixel weight)
        takes the chosen kind's default, so no kind silently starts from another's."""
        kind = self.kind.currentData()
        for name, defaults in self._kind_defaults.items():
            if kind in defaults and len(set(map(repr, defaults.values()))) > 1:
                self.options[name][0].setValue(defaults[kind])

    def _update_enabled(self) -> None:
        free = not self._locked
        mlp = self.arch.currentData() == "mlp"
        kind = self.kind.currentData()
        for w in (self.kind, self.arch, self.latent_dim, self.likelihood, self.precision):
            w.setEnabled(free)
        self.hidden.setEnabled(free and mlp)
        self.conv_width.setEnabled(free and not mlp)
        self._model_form.setRowVisible(self.hidden, mlp)
        self._model_form.setRowVisible(self.conv_width, not mlp)
        for w, kinds in self.options.values():
            w.setEnabled(free)
            self._model_form.setRowVisible(w, kind in kinds)
