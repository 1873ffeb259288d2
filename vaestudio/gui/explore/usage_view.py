"""The "Latent Usage" dock: KL per latent dimension as bars, redrawn after every epoch, with the
count of active units and a warning when most dimensions collapse.

Each new snapshot (a CPU copy of the model, never the one being trained) is measured with
`core.metrics.latent_usage` on at most `MAX_IMAGES` images spread over the split the explorer
encodes, in the explorer's worker (key "usage", latest request wins), never in the GUI thread.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core.kinds import POSTERIOR, kind_of
from ...core.metrics import ACTIVE_UNIT_THRESHOLD, NO_POSTERIOR_USAGE, latent_usage

KEY = "usage"
MAX_IMAGES = 2000
ACTIVE_COLOUR = (31, 119, 180)
INACTIVE_COLOUR = (160, 160, 160)
WARNING_COLOUR = "#d9822b"
COLLAPSE_WARNING = ("most latent dimensions are unused (posterior collapse): try KL warm-up "
                    "(KL warm-up epochs in the form) or a lower β")


def usage_images(images: np.ndarray, cap: int = MAX_IMAGES) -> np.ndarray:
    """At most `cap` of `images`, spread evenly over them (the first and the last included)."""
    n = int(images.shape[0])
    if n <= cap:
        return np.asarray(images)
    rows = np.unique(np.linspace(0, n - 1, cap).round().astype(np.int64))
    return np.asarray(images[rows])


def collapsed(usage: dict) -> bool:
    """Most dimensions unused: fewer than half of D active, for D > 2."""
    dim = len(usage["kl_per_dim"])
    return dim > 2 and usage["active_units"] < dim / 2


class UsagePanel(QWidget):
    """Bars of KL (nats) per latent dimension: active ones coloured, inactive ones grey."""

    updated = Signal()  # a measurement (or a caption without one) is on screen

    def __init__(self, explorer, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.explorer = explorer
        self.usage: Optional[dict] = None  # the latest latent_usage shown
        self.requests = 0  # epochs (snapshots) that asked for a measurement
        self.updates = 0  # measurements drawn
        self._model = None  # the snapshot being measured

        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "latent dimension")
        self.plot.setLabel("left", "KL (nats)")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # no "(x0.001)" beside the nats
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.plot.setMinimumHeight(60)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, pen=None)
        self.plot.addItem(self.bars)

        self.caption = QLabel("Train or open a model to see how it uses its latent dimensions.")
        self.caption.setObjectName("usageCaption")
        self.caption.setWordWrap(True)
        self.warning = QLabel(COLLAPSE_WARNING)
        self.warning.setObjectName("usageWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(f"color: {WARNING_COLOUR};")
        self.warning.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        layout.addWidget(self.warning)

        session = explorer.session
        session.snapshot_changed.connect(self._on_snapshot)
        session.run_changed.connect(self._on_run)
        session.dataset_changed.connect(self._on_dataset)
        explorer.runner.finished.connect(self._on_job)
        explorer.runner.failed.connect(self._on_job_failed)
        self.record: Optional[dict] = None  # what run.extra["usage"] was given last (`_store_usage`)
        self._measuring: Optional[dict] = None
        session.training_state_changed.connect(self._put_record)
        if session.snapshot is not None:
            self._on_snapshot(session.snapshot)

    # -- what tests and panels ask ---------------------------------------------------------
    def heights(self) -> list[float]:
        h = self.bars.opts.get("height")
        return [] if h is None else [float(v) for v in h]

    def request(self) -> None:
        """Measure the current snapshot on the explored split, in the worker."""
        model, dataset = self._model, self.explorer.dataset
        if model is None:
            return
        if not kind_of(model.config).has(POSTERIOR):
            self.explorer.runner.discard(KEY)
            self._show(None, f"This model kind has {NO_POSTERIOR_USAGE}.")
            return
        if dataset is None:
            self._show(None, "Open a data set to measure the latent usage.")
            return
        if tuple(model.config.image_shape) != tuple(dataset.image_shape):
            self._show(None, "The model does not take this data set's images: no latent usage.")
            return
        images = usage_images(self.explorer.split_images())
        if not len(images):
            self._show(None, "The split has no images to measure the latent usage on.")
            return
        split = self.explorer.split_name
        self.requests += 1
        self._measuring = self._record_stamp(split)

        def job(cancel):
            if cancel():
                return None
            return latent_usage(model, images), len(images), split

        self.explorer.runner.submit(KEY, job)

    # -- reactions ---------------------------------------------------------------------------
    @Slot(object)
    def _on_snapshot(self, snapshot) -> None:
        if snapshot is None:
            return
        self._model = snapshot
        self.request()

    @Slot(object)
    def _on_run(self, _run) -> None:
        self.explorer.runner.discard(KEY)
        self._model = None  # the new run's snapshot follows through snapshot_changed
        self.record = self._measuring = None  # the old run's measurement is not this one's
        self._clear("Train or open a model to see how it uses its latent dimensions.")

    @Slot(object)
    def _on_dataset(self, _dataset) -> None:
        self.request()

    @Slot(str, object)
    def _on_job(self, key: str, result) -> None:
        if key != KEY or result is None:
            return
        usage, count, split = result
        if usage is None:
            self._show(None, f"This model kind has {NO_POSTERIOR_USAGE}.")
            return
        dim = len(usage["kl_per_dim"])
        text = (f"active units: {usage['active_units']} of {dim} (variance of the posterior mean > "
                f"{ACTIVE_UNIT_THRESHOLD:g}), measured on {count} {split} images")
        self._show(usage, text)
        self._store_usage(usage, count)

    @Slot(str, str)
    def _on_job_failed(self, key: str, message: str) -> None:
        if key == KEY:
            self._show(None, f"Measuring the latent usage failed: {message}")

    # -- drawing -------------------------------------------------------------------------------
    def _clear(self, text: str) -> None:
        self.usage = None
        self.bars.setOpts(x=[], height=[], brushes=None, brush=None)
        self.caption.setText(text)
        self.warning.hide()

    def _show(self, usage: Optional[dict], text: str) -> None:
        if usage is None:
            self._clear(text)
        else:
            self.usage = usage
            kl = np.asarray(usage["kl_per_dim"], dtype=float)
            active = set(usage["active_dims"])
            brushes = [pg.mkBrush(ACTIVE_COLOUR if d in active else INACTIVE_COLOUR) for d in range(len(kl))]
            self.bars.setOpts(x=np.arange(len(kl)), height=kl, width=0.8, brushes=brushes)
            self.plot.setXRange(-0.6, len(kl) - 0.4, padding=0)
            self.plot.setYRange(0, max(float(kl.max(initial=0.0)), 1e-3) * 1.05, padding=0)
            self.caption.setText(text)
            self.warning.setVisible(collapsed(usage))
        self.updates += 1
        self.updated.emit()

    # -- the record kept with the run (`vaestudio info` prints it) ------------------------------
    def _record_stamp(self, split: str) -> dict:
        """The epoch and data a measurement asked for now is of (the newest request wins, so the
        result that arrives belongs to the last stamp)."""
        from ...core.run import describe_spec

        s = self.explorer.session
        run = s.saved_state if s.saved_state is not None else s.run
        ds = self.explorer.dataset
        epoch = float(run.epochs_done) if run is not None else 0.0
        return {"epoch": epoch, "split": split, "dataset": describe_spec(ds.spec) if ds is not None else ""}

    def _store_usage(self, usage: dict, count: int) -> None:
        from ...core.usage_record import usage_record

        stamp = self._measuring or self._record_stamp(self.explorer.split_name)
        self.record = usage_record(usage, n=count, **stamp)
        self._put_record()

    def _put_record(self, *_) -> None:
        """Into the runs the GUI owns, as the explorer keeps its view: the run itself when idle
        (the worker owns it while training) and the last epoch's saved state (what Save writes)."""
        from ...core.usage_record import USAGE_KEY

        if self.record is None or self._model is None:
            return
        s = self.explorer.session
        for run in [s.saved_state] + ([s.run] if not s.training else []):
            if run is not None and isinstance(getattr(run, "extra", None), dict) \
                    and int(run.model_config.latent_dim) == len(self.record["kl_per_dim"]):
                run.extra[USAGE_KEY] = dict(self.record)
