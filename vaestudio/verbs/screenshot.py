"""`vaestudio screenshot`: open the window (offscreen when there is no display), train a small
model for a few epochs and save a picture of the whole window, e.g. for the README."""
from __future__ import annotations

import os
import tempfile
import time

from .data_args import add_data_args, parse_data_options
from .numbers import float_in, int_in


def _size(text: str) -> tuple[int, int]:
    import argparse
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x800, not {text!r}") from None
    if w < 320 or h < 240:
        raise argparse.ArgumentTypeError("the window needs at least 320x240")
    return w, h


def add_parser(sub) -> None:
    p = sub.add_parser("screenshot", help="save a picture of the window after a short training",
                       description="Open the window (offscreen if there is no display), train a small "
                                   "model and save a PNG of the whole window. Uses throwaway settings.")
    p.add_argument("--out", required=True, metavar="PNG", help="where to write the picture")
    add_data_args(p)
    p.add_argument("--epochs", type=int_in(1, 1000), default=2, help="epochs to train before the picture (default 2)")
    p.add_argument("--size", type=_size, default=(1280, 800), metavar="WxH", help="window size (default 1280x800)")
    p.add_argument("--hidden", type=int_in(1, 4096), nargs="+", default=[128], metavar="H",
                   help="MLP hidden sizes of the small model (default 128)")
    p.add_argument("--timeout", type=float_in(0, 86_400, lo_open=True), default=600, metavar="S", help="give up after S seconds (default 600)")
    p.set_defaults(func=run)


def _wait(app, condition, timeout_s: float, what: str) -> None:
    from PySide6.QtCore import QEventLoop

    from ..core.errors import VaeStudioError

    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise VaeStudioError(f"gave up waiting for {what} after {timeout_s:.0f} s")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)


def run(args) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from ..gui.settings import STATE_ENV
    os.environ.setdefault(STATE_ENV, tempfile.mkdtemp(prefix="vaestudio-screenshot-"))

    from ..core.data.base import DatasetSpec
    from ..core.errors import VaeStudioError
    from ..gui.app import create_application
    from ..gui.main_window import MainWindow

    app = create_application(["vaestudio"])
    window = MainWindow(autosave_enabled=False)
    try:
        window.resize(*args.size)
        window.show()
        window.start_up(load_default=False)
        spec = DatasetSpec(args.dataset or "digits", args.data_root, parse_data_options(args.data_option))
        window.open_dataset(spec, download=args.download)
        _wait(app, lambda: window.session.dataset is not None or window.last_error, args.timeout, "the data set")
        if window.session.dataset is None:
            raise VaeStudioError(window.last_error)
        form = window.training_dock.form
        form.hidden.setText(", ".join(str(h) for h in args.hidden))
        form.epochs.setValue(max(1, args.epochs))
        window.start_training()
        _wait(app, lambda: window.session.state == "idle" or window.last_error, args.timeout, "training")
        if window.last_error:
            raise VaeStudioError(window.last_error)
        _wait(app, lambda: window.session.state == "idle", args.timeout, "training to end")
        explore = getattr(window, "explore", None)
        if explore is not None:  # the latent tools: the last epoch's codes, a pinned point, a hover
            _wait(app, explore.idle, args.timeout, "the latent space")
            explore.demonstrate()
            _wait(app, explore.idle, args.timeout, "the lattice")
        deadline = time.monotonic() + 0.3  # let layouts and repaints settle
        _wait(app, lambda: time.monotonic() > deadline, 5, "repaints")
        picture = window.grab()
        if not picture.save(args.out):
            raise VaeStudioError(f"{args.out}: could not write the PNG")
        print(f"wrote {args.out} ({picture.width()}x{picture.height()}, {window.session.run.epochs_done:g} epochs on "
              f"{window.session.dataset.name})")
    finally:
        window.session.set_dirty(False)  # nothing to save: no question on close
        window.close()
    return 0
