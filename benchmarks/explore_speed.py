"""How fast the latent canvas and the hover preview are on this machine (a benchmark, not a test).

Prints
- hover to preview on screen: from a synthetic mouse-move event on the canvas to the decoder
  preview repainted with the new decode (p50, p95), for the MNIST MLP (784-500-250-2) and a
  64x64x3 conv model (32/64/128/256 channels, latent 100), idle and with training running in
  a background thread (torch at 1 thread, as the app sets it);
- canvas build (new encodings -> view, circle and items ready) and redraw (one synchronous
  repaint of a 1000x800 plot) at 70,000 and 200,000 points, in points and density mode.

Targets on a 2-core CPU: hover p95 < 16 ms; 200,000-point build < 0.6 s, redraw < 40 ms;
density redraw < 5 ms. Random weights: speed does not depend on training.
    QT_QPA_PLATFORM=offscreen python benchmarks/explore_speed.py [--moves 200] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vaestudio.core.config import TrainConfig  # noqa: E402
from vaestudio.core.data.base import array_dataset  # noqa: E402
from vaestudio.core.latent import Encodings  # noqa: E402
from vaestudio.core.kinds import build_model, make_model_config  # noqa: E402

MODELS = {
    "MNIST MLP 784-500-250-2": make_model_config(kind="vae", arch="mlp", image_shape=(1, 28, 28), latent_dim=2,
                                                 hidden=(500, 250)),
    "conv 64x64x3, latent 100": make_model_config(kind="vae", arch="conv", image_shape=(3, 64, 64), latent_dim=100,
                                                  conv_width=32),
}


def pump(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()


def quantiles(values) -> str:
    v = np.asarray(values) * 1000
    return f"p50 {np.percentile(v, 50):6.2f} ms   p95 {np.percentile(v, 95):6.2f} ms"


class Tools:
    """A session, an explorer, the canvas and the preview, shown (offscreen) at a fixed size."""

    def __init__(self, app, model, encodings: Encodings, size=(1000, 800)):
        from vaestudio.gui.explore.canvas import LatentCanvas
        from vaestudio.gui.explore.explorer import Explorer
        from vaestudio.gui.explore.preview import DecoderPreview
        from vaestudio.gui.session import Session

        self.app = app
        self.explorer = Explorer(Session())
        self.explorer.model = model
        self.canvas = LatentCanvas(self.explorer)
        self.canvas.resize(*size)
        self.preview = DecoderPreview(self.explorer)
        self.preview.resize(320, 420)
        self.canvas.show()
        self.preview.show()
        self.set_encodings(encodings)
        pump(app, 0.3)

    def set_encodings(self, enc: Encodings) -> float:
        """What a finished encoding does (Explorer._on_job); returns its seconds."""
        t0 = time.perf_counter()
        self.explorer.encodings = enc
        self.explorer._update_view(encodings_changed=True)
        return time.perf_counter() - t0

    def redraw(self) -> float:
        viewport = self.canvas.plot.viewport()
        t0 = time.perf_counter()
        viewport.repaint()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.canvas.close()
        self.preview.close()
        self.explorer.shutdown()


def hover_latencies(tools: Tools, moves: int, seed: int = 0) -> list[float]:
    from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from vaestudio.gui.explore.canvas import HOVER_INTERVAL_MS

    rng = np.random.default_rng(seed)
    e, canvas = tools.explorer, tools.canvas
    viewport = canvas.plot.viewport()
    out = []
    for _ in range(moves):
        pump(tools.app, (HOVER_INTERVAL_MS + 2) / 1000)  # each move starts a fresh throttle window
        p = e.circle.centre + rng.uniform(-0.7, 0.7, 2) * e.circle.radius
        pos = canvas.view_to_widget(*p)
        ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(viewport.mapToGlobal(QPoint(int(pos.x()), int(pos.y())))),
                         Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        before = tools.preview.hover_view.array
        t0 = time.perf_counter()
        QApplication.sendEvent(viewport, ev)
        while tools.preview.hover_view.array is before:  # held back by the throttle: wait for it
            tools.app.processEvents()
        tools.preview.hover_view.repaint()  # on screen: the new decode painted
        out.append(time.perf_counter() - t0)
    return out


class BackgroundTraining:
    """The MNIST MLP training on random digits in a thread, as the window's worker does."""

    def __init__(self):
        from vaestudio.core.run import Run
        from vaestudio.core.training import Trainer

        rng = np.random.default_rng(1)
        data = array_dataset(rng.integers(0, 256, (20_000, 1, 28, 28), dtype=np.uint8), name="noise")
        run = Run.new(MODELS["MNIST MLP 784-500-250-2"], TrainConfig(epochs=1000, batch_size=100, device="cpu"))
        self.trainer = Trainer(run, data)
        self.thread = threading.Thread(target=self.trainer.train, daemon=True)

    def __enter__(self):
        self.thread.start()
        time.sleep(1.0)  # past model construction and the first batches
        return self

    def __exit__(self, *exc):
        self.trainer.cancel()
        self.thread.join(30)


def cloud(n: int, classes: int = 10, seed: int = 0) -> Encodings:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centres = rng.normal(scale=2.0, size=(classes, 2))
    codes = (centres[labels] + rng.normal(size=(n, 2))).astype(np.float32)
    return Encodings(codes=codes, labels=labels, label_names=[str(i) for i in range(classes)], split="validation")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=200, help="hover moves per row")
    ap.add_argument("--repeats", type=int, default=5, help="builds and redraws per row (median)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from PySide6.QtWidgets import QApplication

    import vaestudio.gui  # noqa: F401  (the PySide6 reference guard)
    from vaestudio.core.latent import encode_images

    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; {os.cpu_count()} CPUs; "
          f"Qt platform {app.platformName()}")

    print("\nhover -> preview on screen")
    for name, cfg in MODELS.items():
        torch.manual_seed(0)
        model = build_model(cfg).eval()
        images = np.random.default_rng(0).integers(0, 256, (2000, *cfg.image_shape), dtype=np.uint8)
        codes, _ = encode_images(model, images)
        tools = Tools(app, model, Encodings(codes=codes, split="validation"))
        hover_latencies(tools, 20)  # warm-up
        idle = hover_latencies(tools, args.moves)
        with BackgroundTraining():
            busy = hover_latencies(tools, args.moves)
        print(f"  {name:<26} idle:     {quantiles(idle)}")
        print(f"  {'':<26} training: {quantiles(busy)}")
        tools.close()

    print("\ncanvas at 1000x800 (median of repeats)")
    model = build_model(MODELS["MNIST MLP 784-500-250-2"]).eval()
    for n in (70_000, 200_000):
        enc = cloud(n)
        for mode in ("points", "density"):
            tools = Tools(app, model, cloud(1000))
            tools.canvas.set_mode(mode)
            builds, redraws = [], []
            for r in range(args.repeats):
                builds.append(tools.set_encodings(cloud(n, seed=r + 1)))
                tools.redraw()  # the first paint after a build fills pyqtgraph's caches
                redraws += [tools.redraw() for _ in range(3)]
            assert tools.canvas.effective_mode == mode
            print(f"  {n:>7,} points, {mode:<7}  build {statistics.median(builds) * 1000:7.1f} ms   "
                  f"redraw {statistics.median(redraws) * 1000:6.2f} ms")
            tools.close()
        del enc


if __name__ == "__main__":
    main()
