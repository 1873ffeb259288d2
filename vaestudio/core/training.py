"""The training engine shared by the CLI, scripts and the window's worker thread.

Speed comes from keeping the whole training split on the device as uint8 and slicing batches
out of one shuffled copy per epoch: no DataLoader, no per-sample Python work. Each epoch reseeds
from (seed, epoch), so a resumed run continues exactly as an uninterrupted one would.
Pause, resume and cancel are `threading.Event`s checked once per batch, so they work from any
thread without an event loop.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Optional

import numpy as np
import torch

from .config import TrainConfig
from .data.base import ImageDataset
from .device import resolve_device
from .errors import TrainingError
from .models import AutoEncoder

EVENT_INTERVAL_S = 0.1  # step events at most ten times a second


@dataclass
class StepEvent:
    epoch: int  # 1-based
    epochs: int
    step: int  # 1-based within the epoch
    steps_per_epoch: int
    loss: float
    recon: float
    kl: float
    beta: float
    samples_per_s: float
    kind: str = "step"


@dataclass
class EpochEvent:
    epoch: int
    epochs: int
    train_loss: float
    train_recon: float
    train_kl: float
    val_loss: Optional[float]
    val_recon: Optional[float]
    val_kl: Optional[float]
    beta: float
    samples_per_s: float
    seconds: float
    kind: str = "epoch"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("kind")
        return d


@dataclass
class TrainResult:
    status: str  # "finished" | "cancelled" | "diverged"
    epochs_done: int
    history: list
    samples_per_s: float
    message: str = ""


Callback = Callable[[object], None]


def epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch)) % (2**63)


def kl_weight(beta: float, warmup_epochs: int, epoch_progress: float) -> float:
    """Linear KL warm-up: 0 -> beta over the first `warmup_epochs` epochs (progress in epochs)."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, epoch_progress / warmup_epochs)


def make_optimizer(model: torch.nn.Module, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """Adam; the fused kernel where torch has one (CPU, CUDA): one call updates every tensor."""
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
        except (RuntimeError, TypeError):
            pass
    return torch.optim.Adam(model.parameters(), lr=lr)


def images_to_float(batch_u8: torch.Tensor) -> torch.Tensor:
    return batch_u8.to(torch.float32).div_(255.0)


def host_tensor(images: np.ndarray) -> torch.Tensor:
    """A CPU tensor over a numpy slice; read-only memmaps (cached data sets) are copied first."""
    arr = np.ascontiguousarray(images)
    if not arr.flags.writeable:
        arr = arr.copy()
    return torch.from_numpy(arr)


def float_batch(images: np.ndarray, device) -> torch.Tensor:
    """uint8 images (a numpy slice) -> float32 in [0, 1] on `device`; float input is passed through."""
    t = host_tensor(images).to(device)
    return images_to_float(t) if t.dtype == torch.uint8 else t.float()


class Trainer:
    def __init__(
        self,
        model: AutoEncoder,
        dataset: ImageDataset,
        config: TrainConfig,
        callbacks: Iterable[Callback] = (),
        *,
        history: Optional[list] = None,
        optimizer_state: Optional[dict] = None,
        start_epoch: int = 0,
    ):
        if tuple(dataset.image_shape) != tuple(model.config.image_shape):
            raise TrainingError(
                f"the model expects images of shape {tuple(model.config.image_shape)} but the data set "
                f"'{dataset.name}' has {tuple(dataset.image_shape)}"
            )
        if len(dataset.train) == 0:
            raise TrainingError(f"the data set '{dataset.name}' has no training images")
        self.model = model
        self.dataset = dataset
        self.config = config
        self.callbacks = list(callbacks)
        self.history: list = list(history or [])
        self.start_epoch = int(start_epoch)
        self.epoch = self.start_epoch
        self.device = resolve_device(config.device)
        self.model.to(self.device)
        self.optimizer = make_optimizer(self.model, config.lr, self.device)
        if optimizer_state:
            self.optimizer.load_state_dict(optimizer_state)
        self._running = threading.Event()
        self._running.set()
        self._cancel = threading.Event()
        self._good_state = self._copy_state()

    # -- control, from any thread ---------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # -- internals ------------------------------------------------------------------------
    def _copy_state(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def _emit(self, event) -> None:
        for cb in self.callbacks:
            cb(event)

    def _train_images(self) -> tuple[torch.Tensor, bool]:
        """The training split as a uint8 tensor: on the device when it fits, else on the CPU."""
        images = self.dataset.train.images
        on_device = images.nbytes <= self.config.max_device_bytes
        if on_device:
            return host_tensor(images).to(self.device), True
        return images, False  # a memmap too big to hold: gather batches from it

    def _batches(self, data, on_device: bool, gen: torch.Generator):
        n = data.shape[0]
        b = self.config.batch_size
        perm = torch.randperm(n, generator=gen)
        if on_device:
            shuffled = data[perm.to(data.device)]  # one gather per epoch, then views
            for i in range(0, n, b):
                yield shuffled[i:i + b]
        else:
            idx = perm.numpy()
            for i in range(0, n, b):
                rows = np.sort(idx[i:i + b])  # sorted reads are kinder to a memmap
                yield host_tensor(data[rows]).to(self.device, non_blocking=True)

    @torch.no_grad()
    def validate(self) -> Optional[dict]:
        split = self.dataset.validation
        if len(split) == 0:
            return None
        was_training = self.model.training
        self.model.eval()
        tot = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
        n = len(split)
        beta = self.model.config.beta
        for i in range(0, n, self.config.val_batch_size):
            x = float_batch(split.images[i:i + self.config.val_batch_size], self.device)
            out = self.model.loss(x, beta=beta)
            for k in tot:
                tot[k] += float(out[k]) * x.shape[0]
        self.model.train(was_training)
        return {k: v / n for k, v in tot.items()}

    def run(self) -> TrainResult:
        cfg = self.config
        mcfg = self.model.config
        data, on_device = self._train_images()
        n = data.shape[0]
        steps_per_epoch = math.ceil(n / cfg.batch_size)
        rates = []
        status, message = "finished", ""
        self.model.train()
        for epoch in range(self.start_epoch, cfg.epochs):
            seed = epoch_seed(cfg.seed, epoch)
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            sums = torch.zeros(3, device=self.device)
            seen = 0
            t_epoch = time.perf_counter()
            t_train = 0.0
            t_last_event = t_epoch
            last_event_seen = 0
            last_event_time = t_epoch
            for step, xb in enumerate(self._batches(data, on_device, gen), start=1):
                if not self._running.is_set():
                    t_pause = time.perf_counter()
                    self._running.wait()
                    paused_for = time.perf_counter() - t_pause
                    t_epoch += paused_for
                    last_event_time += paused_for
                if self._cancel.is_set():
                    status, message = "cancelled", f"cancelled during epoch {epoch + 1}"
                    break
                t0 = time.perf_counter()
                x = images_to_float(xb)
                beta = kl_weight(mcfg.beta, mcfg.kl_warmup_epochs, epoch + (step - 1) / steps_per_epoch)
                out = self.model.loss(x, beta=beta)
                self.optimizer.zero_grad(set_to_none=True)
                out["loss"].backward()
                self.optimizer.step()
                bs = x.shape[0]
                sums += torch.stack([out["loss"].detach(), out["recon"].detach(), out["kl"].detach()]) * bs
                seen += bs
                t_train += time.perf_counter() - t0
                now = time.perf_counter()
                if now - t_last_event >= EVENT_INTERVAL_S or step == steps_per_epoch:
                    s = (sums / seen).tolist()
                    if not all(math.isfinite(v) for v in s):
                        status = "diverged"
                        break
                    rate = (seen - last_event_seen) / max(now - last_event_time, 1e-9)
                    last_event_seen, last_event_time = seen, now
                    t_last_event = now
                    self._emit(StepEvent(epoch + 1, cfg.epochs, step, steps_per_epoch, s[0], s[1], s[2], beta, rate))
            if status == "diverged":
                self.model.load_state_dict(self._good_state)
                message = (f"the loss became non-finite (NaN or infinity) in epoch {epoch + 1}; training stopped "
                           f"and the weights of epoch {epoch} were kept. Try a lower learning rate.")
                break
            if status == "cancelled":
                break
            s = (sums / max(seen, 1)).tolist()
            val = self.validate()
            if val is not None and not math.isfinite(val["loss"]):
                self.model.load_state_dict(self._good_state)
                status = "diverged"
                message = (f"the validation loss became non-finite in epoch {epoch + 1}; the weights of "
                           f"epoch {epoch} were kept. Try a lower learning rate.")
                break
            rate = seen / max(t_train, 1e-9)
            rates.append(rate)
            ev = EpochEvent(
                epoch + 1, cfg.epochs, s[0], s[1], s[2],
                None if val is None else val["loss"], None if val is None else val["recon"],
                None if val is None else val["kl"], beta, rate, time.perf_counter() - t_epoch,
            )
            self.history.append(ev.to_dict())
            self.epoch = epoch + 1
            self._good_state = self._copy_state()
            self._emit(ev)
        self.model.eval()
        sps = rates[-1] if rates else 0.0
        return TrainResult(status, self.epoch, list(self.history), sps, message)
