"""Arguments and helpers shared by the verbs that act on a trained run, and the terminal
progress bar. The data options live in `data_args` (`add_data_args` is re-exported here)."""
from __future__ import annotations

import argparse
import sys
import time

from ..core.config import DEVICES
from ..core.run import Run
from .data_args import add_data_args, dataset_from_args

__all__ = ["TerminalProgress", "add_data_args", "add_run_arg", "load_run", "open_run_dataset"]


def add_run_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="a run folder (holding model.pt) or a checkpoint file")
    parser.add_argument("--device", default="cpu", choices=DEVICES,
                        help="where to run the model (default: cpu)")


def load_run(args) -> Run:
    """The run RUN names, refused when its weights are not finite (see `Run.require_finite`)."""
    from ..core.device import resolve_device

    return Run.load(args.run, device=resolve_device(getattr(args, "device", "cpu"))).require_finite()


def open_run_dataset(args, ckpt: Run):
    """--dataset/--data-root when given, else the data set the model was trained on; refused
    when its images are not the shape the model takes (every verb that feeds a model a data set
    comes through here)."""
    from ..core.errors import ConfigError

    def shape_text(shape) -> str:
        return "x".join(str(v) for v in shape)

    ds = dataset_from_args(args, default_spec=ckpt.dataset_spec)
    want = tuple(ckpt.model_config.image_shape)
    if tuple(ds.image_shape) != want:
        raise ConfigError(f"{ds.name} has {shape_text(ds.image_shape)} images but the model in "
                          f"{ckpt.path or args.run} takes {shape_text(want)}: choose a data set of that shape "
                          f"(or train a model for this one)")
    return ds


class TerminalProgress:
    """A one-line progress bar on stderr when it is a terminal; plain lines otherwise."""

    def __init__(self, stream=None, width: int = 28):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self._last = 0.0

    def bar(self, done: int, total: int, text: str) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = int(self.width * frac)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {frac:4.0%} {text}\x1b[K")
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()
