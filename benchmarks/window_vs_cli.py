"""Training speed in the window against the CLI, and how responsive the window stays, in one run.

Both sides train the "MNIST MLP VAE, 2-D latent" preset (784-500-250-2, batch 100, Adam 1e-3)
on the built-in digits, each in a fresh process, one after the other (never at once):

- CLI: the core `Trainer` as `vaestudio train` runs it, with torch's own thread count (every
  core) unless --cli-threads says otherwise.
- window: the real `MainWindow`, offscreen, with the digits opened through its data set
  loader, the preset applied in its form and training started through its own Start action;
  a chain of 10 ms single-shot precise timers in the GUI thread records how late each fires.
  Each `--option THREADS:NICE[:SWITCH_MS]` is one window setting (torch threads of the training
  thread, nice steps for it, Python's GIL switch interval); the product's own setting is
  measured as "default". (Before this benchmark the window trained with "1:0".)

Speed is what the window's status bar shows: the trainer's step reports (images over wall
time between reports, inside epochs), summed over the measured seconds after a one-second
warm-up (model set-up, first paints). Rounds alternate CLI, then each window option, so a
busy machine slows them alike; the ratio is taken within each round, then the median.

Targets: the window within 80% of the CLI; p99 timer lateness under 20 ms.

    python benchmarks/window_vs_cli.py [--seconds 6] [--rounds 3] [--n-train 20000]
                                       [--option default 1:0 2:0 2:10] [--cli-threads N] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

WARMUP_S = 1.0

COMMON = r"""
import json, os, sys, time
cfg = json.loads(os.environ["BENCH_CFG"])

def summarise(events, t_first):
    # events: (t, epoch, step, samples_per_s); images between reports inside one epoch
    images, seconds, prev = 0, 0.0, None
    for t, epoch, step, rate in events:
        if prev is not None and prev[1] == epoch and t - t_first >= cfg["warmup"] and rate > 0:
            n = (step - prev[2]) * cfg["batch"]
            images += n
            seconds += n / rate
        prev = (t, epoch, step, rate)
    return {"images": images, "images_per_s": images / seconds if seconds else 0.0}

def preset_and_data():
    from vaestudio.core.config import presets
    return presets(False)[0]  # "MNIST MLP VAE, 2-D latent"
"""

CLI_CHILD = COMMON + r"""
import dataclasses, torch
if cfg["threads"]:
    torch.set_num_threads(cfg["threads"])
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer
preset = preset_and_data()
ds = open_dataset("digits", n_train=cfg["n_train"], n_test=1000)
mcfg = dataclasses.replace(preset.model, image_shape=ds.image_shape)
run = Run.new(mcfg, dataclasses.replace(preset.train, epochs=1000, device="cpu"))
run.use_dataset(ds)
events = []
state = {}

def on_event(ev):
    if ev.kind != "step":
        return
    now = time.perf_counter()
    state.setdefault("t0", now)
    events.append((now, ev.epoch, ev.step, ev.samples_per_s))
    if now - state["t0"] >= cfg["warmup"] + cfg["seconds"]:
        trainer.cancel()

trainer = Trainer(run, ds, [on_event])
trainer.adapt_threads = not cfg["threads"]  # as `vaestudio train` sets it
trainer.train()
out = summarise(events, state["t0"])
out.update(torch_threads=torch.get_num_threads(), epochs_done=run.epochs_done)
print("RESULT " + json.dumps(out), flush=True)
"""

WINDOW_CHILD = COMMON + r"""
from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
from vaestudio.gui import torch_setup
if cfg["threads"] is not None:
    torch_setup.TRAIN_THREADS = cfg["threads"]
if cfg["nice"] is not None:
    torch_setup.TRAIN_NICE = cfg["nice"]
if cfg.get("switch_ms"):
    sys.setswitchinterval(cfg["switch_ms"] / 1000.0)
from vaestudio.gui.app import create_application
from vaestudio.gui.main_window import MainWindow
import numpy as np

app = create_application(["benchmark"])
window = MainWindow()
window.show()

def wait(cond, timeout=600):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise RuntimeError("timed out")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

window.dataset_options = {"digits": {"n_train": cfg["n_train"], "n_test": 1000}}
window.open_dataset_by_name("digits")
wait(lambda: window.session.dataset is not None or window.last_error)
form = window.training_dock.form
form.apply_preset(preset_and_data())
form.epochs.setValue(1000)
events, lateness, state = [], [], {}

def on_step(ev):
    now = time.perf_counter()
    state.setdefault("t0", now)
    events.append((now, ev["epoch"], ev["step"], ev["samples_per_s"]))

window.controller.step.connect(on_step)
idle_lateness = state["idle_lateness"] = []  # the same timer chain before training: the machine's own noise
idle_timer = QTimer()
idle_timer.setSingleShot(True)
idle_timer.setTimerType(Qt.TimerType.PreciseTimer)

def idle_fire():
    idle_lateness.append((time.perf_counter() - state["due"]) * 1000.0)
    state["due"] = time.perf_counter() + 0.010
    idle_timer.start(10)

idle_timer.timeout.connect(idle_fire)
state["due"] = time.perf_counter() + 0.010
idle_timer.start(10)
idle_loop = QEventLoop()
QTimer.singleShot(int(cfg["idle_seconds"] * 1000), idle_loop.quit)
idle_loop.exec()
idle_timer.stop()
window.start_action.trigger()
wait(lambda: "t0" in state or window.last_error)
if window.last_error:
    raise RuntimeError(window.last_error)
timer = QTimer()
timer.setSingleShot(True)
timer.setTimerType(Qt.TimerType.PreciseTimer)

def fire():
    now = time.perf_counter()
    if now - state["t0"] >= cfg["warmup"]:
        lateness.append((now - state["due"]) * 1000.0)
    arm()

def arm():
    state["due"] = time.perf_counter() + 0.010
    timer.start(10)

timer.timeout.connect(fire)
arm()
loop = QEventLoop()
QTimer.singleShot(int((cfg["warmup"] + cfg["seconds"]) * 1000), loop.quit)
loop.exec()
timer.stop()
worker = window.controller.worker
nice = worker.thread_nice if worker is not None else None
train_threads = worker.torch_threads if worker is not None else 0
niced = 0  # threads of this process running below normal priority (the trainer and its helpers)
for tid in os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else []:
    try:
        with open(f"/proc/self/task/{tid}/stat") as f:
            niced += int(f.read().rsplit(")", 1)[1].split()[16]) > 0
    except (OSError, IndexError, ValueError):
        pass
window.stop_action.trigger()
wait(lambda: window.session.state == "idle")
import torch
out = summarise(events, state["t0"])
late = np.asarray(lateness)
idle = np.asarray(state["idle_lateness"])
out.update(torch_threads=train_threads, train_nice=nice, niced_threads=niced, timer_fires=int(late.size),
           idle_p99_ms=float(np.percentile(idle, 99)),
           p50_ms=float(np.percentile(late, 50)), p95_ms=float(np.percentile(late, 95)),
           p99_ms=float(np.percentile(late, 99)), max_ms=float(late.max()))
window.session.set_dirty(False)
window.close()
QCoreApplication.processEvents()
print("RESULT " + json.dumps(out), flush=True)
"""


def child(code: str, cfg: dict) -> dict:
    env = dict(os.environ, BENCH_CFG=json.dumps(cfg))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise RuntimeError(f"a benchmark child failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def parse_option(text: str):
    """'default' (the product's settings) or THREADS:NICE[:SWITCH_MS] (THREADS 0: torch's choice;
    SWITCH_MS: Python's GIL switch interval in milliseconds, default 5)."""
    if text == "default":
        return text, None, None, None
    parts = text.split(":")
    threads, nice = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    return text, threads, nice, float(parts[2]) if len(parts) > 2 else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="measured seconds per side (default 6)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of CLI + every window option (default 3)")
    ap.add_argument("--n-train", type=int, default=20000, help="digits to train on (default 20000)")
    ap.add_argument("--cli-threads", type=int, default=0, help="torch threads for the CLI (default: torch's)")
    ap.add_argument("--option", nargs="+", default=["default"],
                    help="window settings to compare: 'default' or THREADS:NICE[:SWITCH_MS] (e.g. 1:0 2:0 2:10:1)")
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("VAESTUDIO_STATE_DIR", tempfile.mkdtemp(prefix="vaestudio-bench-"))
    base = {"seconds": args.seconds, "warmup": WARMUP_S, "n_train": args.n_train, "batch": 100,
            "idle_seconds": min(args.seconds, 3.0)}
    options = [parse_option(o) for o in args.option]
    rounds = []
    for r in range(args.rounds):
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        cli = child(CLI_CHILD, dict(base, threads=args.cli_threads))
        entry = {"round": r + 1, "load_1min": round(load, 2), "cli": cli, "window": {}}
        print(f"round {r + 1} (load {load:.1f}): CLI {cli['images_per_s']:,.0f} images/s "
              f"({cli['torch_threads']} threads)", flush=True)
        for name, threads, nice, switch_ms in options:
            w = child(WINDOW_CHILD, dict(base, threads=threads, nice=nice, switch_ms=switch_ms))
            w["ratio"] = w["images_per_s"] / cli["images_per_s"] if cli["images_per_s"] else 0.0
            entry["window"][name] = w
            print(f"  window {name:>8} ({w['torch_threads']} threads, nice {w['train_nice']}): "
                  f"{w['images_per_s']:,.0f} images/s, ratio {w['ratio']:.2f}; 10 ms timer late p50 "
                  f"{w['p50_ms']:.2f} p95 {w['p95_ms']:.2f} p99 {w['p99_ms']:.2f} max {w['max_ms']:.1f} ms "
                  f"({w['timer_fires']} fires; before Start p99 {w['idle_p99_ms']:.2f} ms; "
                  f"{w['niced_threads']} threads niced)", flush=True)
        rounds.append(entry)
    print(f"summary over {args.rounds} rounds (median; min..max), {os.cpu_count()} CPUs, "
          f"targets: ratio >= 0.80, p99 < 20 ms")
    summary = {}
    for name, *_settings in options:
        ratios = [e["window"][name]["ratio"] for e in rounds]
        p99 = [e["window"][name]["p99_ms"] for e in rounds]
        summary[name] = {"ratio_median": statistics.median(ratios), "ratios": ratios,
                         "p99_median_ms": statistics.median(p99), "p99_ms": p99}
        print(f"  {name:>8}: ratio {statistics.median(ratios):.2f} ({min(ratios):.2f}..{max(ratios):.2f}), "
              f"p99 {statistics.median(p99):.2f} ms ({min(p99):.2f}..{max(p99):.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": rounds, "summary": summary, "cpus": os.cpu_count()}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
