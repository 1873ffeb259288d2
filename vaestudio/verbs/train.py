"""`vaestudio train`: train a run headless, writing RUN/model.pt and RUN/metrics.json.

`--epochs` is the total the run trains to, new or resumed. `--resume` takes every setting from
the run; a flag that contradicts the run is refused, except `--lr`, which is applied to the
optimiser and recorded in the history.

The run folder is made and proved writable first, then locked (RUN/.vaestudio-lock holds the
PID) for as long as training runs, so a second `train` on it is refused before anything loads.
RUN/metrics.json is rewritten with every write of RUN/model.pt, "running" until the process
ends: after a kill it never claims more (or a different status) than model.pt holds.
"""
from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

from ..core.config import (ARCHS, DEVICES, LIKELIHOODS, MAX_BATCH, MAX_EPOCHS, MAX_OPTION_TEXT, PRECISIONS,
                           ModelConfig, TrainConfig, kind_options)
from ..core.kinds import DEFAULT_KIND, get_kind, kind_names
from .common import TerminalProgress, add_data_args
from .numbers import float_in, int_in, seed_type

# Model settings: flag dest -> (config field, default for a new run)
MODEL_FLAGS = {"arch": ("arch", "mlp"), "latent_dim": ("latent_dim", 2), "hidden": ("hidden", (400,)),
               "conv_width": ("conv_width", 32), "likelihood": ("likelihood", None), "sigma": ("gaussian_sigma", 0.1)}
TRAIN_DEFAULTS = {"epochs": 10, "batch_size": 128, "lr": 1e-3, "seed": 0, "precision": "fp32"}


def _kind_option_flags() -> dict:
    """Every kind's own settings as flags: dest -> (field, {kind: default}, metadata, type)."""
    found: dict = {}
    for name in kind_names():
        for f in kind_options(get_kind(name).config_class):
            flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
            entry = found.setdefault(flag.lstrip("-").replace("-", "_"), (f.name, {}, f.metadata, type(f.default), flag))
            entry[1][name] = f.default
    return found


def _bounded(typ, meta: dict):
    """The bounded argparse type of a kind's own setting, from its `option(lo=, hi=)`."""
    if typ is bool:
        return typ
    if typ is str:  # text: one of its `choices` (argparse checks those), or free text such as a path
        return _text(MAX_OPTION_TEXT)
    lo, hi = meta.get("lo"), meta.get("hi")
    if typ is int:
        return int_in(-(2**31) if lo is None else lo, 2**31 if hi is None else hi)
    return float_in(-1e9 if lo is None else lo, 1e9 if hi is None else hi)


def _text(limit: int):
    def text(value: str) -> str:
        if len(value) > limit:
            raise argparse.ArgumentTypeError(f"at most {limit} characters, not {len(value)}")
        return value
    text.__name__ = "text"
    return text


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model headless",
                       description="Train a model of any kind. Writes RUN/model.pt after every epoch and when "
                                   "stopped (Ctrl+C stops after the current batch; the run then continues exactly "
                                   "from there with --resume) and RUN/metrics.json. --epochs is always the total.")
    add_data_args(p)
    m = p.add_argument_group("model (a new run; with --resume they must match the run or be left out)")
    m.add_argument("--model", choices=kind_names(), default=None,
                   help=f"model kind: {', '.join(f'{k} ({get_kind(k).title})' for k in kind_names())} "
                        f"(default {DEFAULT_KIND})")
    m.add_argument("--arch", choices=ARCHS, default=None, help="backbone (default mlp)")
    m.add_argument("--latent-dim", type=int_in(1, 1024), default=None, metavar="D",
                   help="latent dimension (default 2)")
    m.add_argument("--hidden", type=int_in(1, 65_536), nargs="+", default=None, metavar="H",
                   help="MLP hidden sizes, encoder order (default 400)")
    m.add_argument("--conv-width", type=int_in(1, 512), default=None, metavar="C",
                   help="channels of the first conv layer, doubling per layer (default 32)")
    m.add_argument("--likelihood", choices=LIKELIHOODS, default=None,
                   help="pixel likelihood (default: bernoulli for grey images, gaussian for colour)")
    m.add_argument("--sigma", type=float_in(0, 10), default=None,
                   help="pixel std of the Gaussian likelihood; 0 learns it (default 0.1)")
    for dest, (_name, kinds, meta, typ, flag) in _kind_option_flags().items():
        where = ", ".join(kinds)
        shown = {k: (repr(v) if typ is str else v) for k, v in kinds.items()}
        default = (next(iter(shown.values())) if len(set(shown.values())) == 1
                   else ", ".join(f"{v} for {k}" for k, v in shown.items()))
        m.add_argument(flag, dest=dest, type=_bounded(typ, meta), default=None, choices=meta.get("choices"),
                       metavar=None if meta.get("choices") else ("TEXT" if typ is str else None),
                       help=f"{meta['help'] or meta['label']} ({where} only; default {default})")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=None,
                   help="the total number of epochs the run trains to (default 10; with --resume: the run's own)")
    t.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=None,
                   help="default 128 (with --resume: the run's own)")
    t.add_argument("--lr", type=float_in(0, 10, lo_open=True), default=None,
                   help="Adam learning rate (default 1e-3); with --resume it changes the run's rate from here on")
    t.add_argument("--seed", type=seed_type(), default=None, help="default 0 (with --resume: the run's own)")
    t.add_argument("--device", choices=DEVICES, default="auto")
    t.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="arithmetic of the training step: fp32 (default; bit-reproducible on the CPU), or "
                        "autocast to bf16 / fp16 (fp16 with a gradient scaler): faster on a GPU for big conv nets, "
                        "slower for small ones (see docs/gpu.md); "
                        "with --resume: the run's own")
    t.add_argument("--cuda-graph", action="store_true",
                   help="on a GPU, replay each training step as one CUDA graph: several times faster for "
                        "small nets, which leave the GPU idle between kernel launches (fp32, AE and VAE; "
                        "not bit-identical to the plain step)")
    t.add_argument("--threads", type=int_in(0, 1024), default=0, help="CPU threads for torch (default: torch's choice, and one "
                   "while other work holds the cores, where that is faster and gives the same weights)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder to write")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in RUN_DIR from where it stopped (mid-epoch too) up to its target, "
                        "or up to --epochs")
    p.add_argument("--switch-dataset", action="store_true",
                   help="with --resume: continue on a data set other than the one the run was trained on "
                        "(the history marks the change)")
    p.set_defaults(func=run)


def _given(args, dest: str):
    return getattr(args, dest, None)


def new_model_config(args, dataset) -> ModelConfig:
    from ..core.errors import ConfigError
    from ..core.kinds import make_model_config

    kind = args.model or DEFAULT_KIND
    settings = {}
    for dest, (name, default) in MODEL_FLAGS.items():
        value = _given(args, dest)
        settings[name] = default if value is None else value
    settings["hidden"] = tuple(settings["hidden"])
    settings["gaussian_sigma"] = settings["gaussian_sigma"] or None  # 0 learns it
    settings["likelihood"] = settings["likelihood"] or ("bernoulli" if dataset.image_shape[0] == 1 else "gaussian")
    for dest, (name, kinds, _meta, _typ, flag) in _kind_option_flags().items():
        value = _given(args, dest)
        if value is not None:
            if kind not in kinds:
                raise ConfigError(f"{flag} is a setting of {', '.join(kinds)}, not of {kind}")
            settings[name] = value
    return make_model_config(kind=kind, image_shape=dataset.image_shape, **settings)


def check_resume_flags(args, run) -> list[str]:
    """Refuse flags that contradict the run; apply --lr and --epochs. Returns notes to print."""
    from ..core.errors import ConfigError

    m, t = run.model_config, run.train_config
    conflicts = []
    if args.model is not None and args.model != m.kind:
        conflicts.append(f"--model {args.model} (the run is {m.kind})")
    for dest, (name, _default) in MODEL_FLAGS.items():
        value = _given(args, dest)
        have = getattr(m, name)
        if dest == "hidden" and value is not None:
            value = tuple(value)
        if dest == "sigma" and value is not None:
            value = value or None
        if value is not None and value != have:
            conflicts.append(f"--{dest.replace('_', '-')} {value} (the run has {have})")
    for dest, (name, _kinds, _meta, _typ, flag) in _kind_option_flags().items():
        value = _given(args, dest)
        if value is not None and value != getattr(m, name, None):
            conflicts.append(f"{flag} {value} (the run has {getattr(m, name, 'no such setting')})")
    for dest in ("batch_size", "seed", "precision"):
        value = _given(args, dest)
        if value is not None and value != getattr(t, dest):
            conflicts.append(f"--{dest.replace('_', '-')} {value} (the run has {getattr(t, dest)})")
    if conflicts:
        raise ConfigError("--resume takes the run's own settings; these flags contradict it: "
                          + "; ".join(conflicts) + ". Leave them out, or start a new run with another --out")
    notes = []
    if args.lr is not None and args.lr != t.lr:
        notes.append(f"learning rate {t.lr:g} -> {args.lr:g} from epoch {run.progress.epoch + 1} on")
        run.set_lr(args.lr)
    if args.epochs is not None:
        run.set_target(args.epochs)
    return notes


def run(args) -> int:
    import torch

    from ..core.checkpoint import CHECKPOINT_NAME
    from ..core.distributed import from_environment
    from ..core.errors import ConfigError
    from ..core.run import Run
    from ..core.run_lock import RunLock, prepare_run_folder

    if args.threads < 0 or args.threads > 4096:
        raise ConfigError(f"--threads must be between 0 (torch's choice) and 4096, not {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.switch_dataset and not args.resume:
        raise ConfigError("--switch-dataset goes with --resume (a new run starts on whatever data set it is given)")
    out = Path(args.out)
    ckpt_path = out / CHECKPOINT_NAME
    if args.resume and not ckpt_path.is_file():
        Run.load(ckpt_path)  # its one-line error: no such file, or not a run folder
    # Started by torchrun: one of several processes (rank 0 writes the files; core/distributed.py)
    procs = from_environment(args.device, args.threads)
    try:
        if not procs.main:  # no folder, no lock, no file: rank 0 holds them
            return _train_locked(args, out, ckpt_path, procs)
        # A folder this process can write and holds alone, before a data set opens or an epoch trains:
        # a second `train` on it is refused naming the PID that holds it (a killed one's lock is taken over).
        created = prepare_run_folder(out)
        with RunLock(out, remove_if_empty=created):
            return _train_locked(args, out, ckpt_path, procs)
    finally:
        procs.close()


def _train_locked(args, out: Path, ckpt_path: Path, procs=None) -> int:
    import dataclasses

    from ..core.checkpoint import CheckpointWriter
    from ..core.device import describe_device
    from ..core.errors import ConfigError
    from ..core.paths import atomic_write_bytes
    from ..core.run import DatasetSwitchError, Run
    from ..core.training import Trainer
    from .data_args import dataset_from_args

    import io

    from ..core.distributed import Processes, wrap_for_training

    procs = procs or Processes()
    progress = TerminalProgress() if procs.main else TerminalProgress(io.StringIO())  # rank 0 alone prints
    bar = lambda d, t, msg: progress.bar(d, t, msg)  # noqa: E731
    procs.others_wait()  # rank 0 opens the data first (it builds a missing cache; the others read it)
    if args.resume:
        run_ = Run.load(ckpt_path)
        notes = check_resume_flags(args, run_)
        run_.train_config = dataclasses.replace(run_.train_config, device=args.device)
        dataset = dataset_from_args(args, default_spec=run_.dataset_spec, progress=bar)
        try:
            run_.use_dataset(dataset, allow_switch=args.switch_dataset)
        except DatasetSwitchError as e:
            raise ConfigError(f"{e}: pass --switch-dataset") from None
        for note in notes:
            progress.line(note)
        if run_.finished:
            progress.line(f"{ckpt_path} already has {run_.epochs_done:g} of {run_.target_epochs} epochs; "
                          f"ask for a larger total with --epochs")
    else:
        if ckpt_path.exists():
            raise ConfigError(f"{ckpt_path} exists; pass --resume to continue it or choose another --out")
        dataset = dataset_from_args(args, progress=bar)
        mcfg = new_model_config(args, dataset)
        tcfg = TrainConfig(**{k: (TRAIN_DEFAULTS[k] if _given(args, k) is None else _given(args, k))
                              for k in TRAIN_DEFAULTS}, device=args.device)
        run_ = Run.new(mcfg, tcfg)
        run_.use_dataset(dataset)
    procs.release_others()
    mcfg, tcfg = run_.model_config, run_.train_config

    def metrics_bytes(status: str, message: str = "", samples_per_s: float = 0.0,
                      epoch_samples_per_s: float = 0.0) -> bytes:
        """RUN/metrics.json from the run as model.pt now holds it, rewritten after every write of
        model.pt. It says "running" until this process ends; after a kill it stays "running",
        one epoch behind model.pt at worst, and model.pt (what `info` reads) is the truth."""
        metrics = {
            "status": status,
            "message": message,
            "epochs": run_.info()["epochs_done"],
            "target_epochs": run_.target_epochs,
            "samples_per_s": samples_per_s,  # the training step alone
            # images per wall-clock second of a whole epoch: step, validation, checkpoint, events
            "epoch_samples_per_s": epoch_samples_per_s,
            "device": str(trainer.device),
            "world_size": procs.world_size,  # processes training together (torchrun), this session
            "kind": mcfg.kind,
            "loss_terms": run_.kind.term_names(),
            "model": mcfg.to_dict(),
            "train": run_.train_config.to_dict(),
            "datasets": run_.datasets(),
            "dataset": dataset.spec.to_dict(),
            "history": run_.history,
        }
        return json.dumps(metrics, indent=2).encode()

    def write_metrics(*a, **kw) -> None:
        atomic_write_bytes(out / "metrics.json", metrics_bytes(*a, **kw))

    def on_event(ev):
        if ev.kind == "step":
            progress.bar(ev.step, ev.steps_per_epoch,
                         f"epoch {ev.epoch}/{ev.epochs}  loss {ev.terms['loss']:.2f}  {ev.samples_per_s:,.0f} img/s")
            return
        r = ev.record
        # the other terms, side by side: not every kind's loss is their sum (a GAN's is not)
        parts = ", ".join(f"{t.name} {r[f'train_{t.name}']:.2f}" for t in run_.kind.loss_terms[1:])
        val = "" if r.get("val_loss") is None else f"  val {r['val_loss']:.2f}"
        progress.line(f"epoch {ev.epoch}/{ev.epochs}  loss {r['train_loss']:.2f} ({parts}){val}  "
                      f"{r['samples_per_s']:,.0f} img/s  {r['seconds']:.1f}s")
        # written off this thread (the fsync would stall training); metrics.json after its model.pt
        data = metrics_bytes("running", samples_per_s=r["samples_per_s"],
                             epoch_samples_per_s=r.get("epoch_samples_per_s", 0.0))
        writer.submit(ckpt_path, run_, after=lambda: atomic_write_bytes(out / "metrics.json", data))

    writer = CheckpointWriter()
    trainer = Trainer(run_, dataset, [on_event] if procs.main else [], rank=procs.rank,
                      world_size=procs.world_size, ranks=procs.sync())
    trainer.prepare_progress = bar  # a kind's one-off work before the first step (e.g. a feature network)
    trainer.allow_download = bool(getattr(args, "download", False))
    trainer.adapt_threads = not args.threads  # torch's choice: fewer threads while others hold the cores
    if getattr(args, "cuda_graph", False):
        from ..core.cuda_graph import why_not

        problem = why_not(run_.kind, trainer.device, trainer.precision.name, procs.distributed)
        if problem:
            raise ConfigError(f"--cuda-graph {problem} (--device cuda)" if trainer.device.type != "cuda"
                              else f"--cuda-graph {problem}")
        trainer.use_cuda_graph = True
    averaging = None
    if procs.distributed:  # the kind's one-off work first: it may replace parts of the model
        if not run_.finished:
            run_.kind.prepare(run_, dataset, trainer.device, bar, download=trainer.allow_download)
        averaging = wrap_for_training(run_.model, trainer.optimizers, procs, getattr(tcfg, "precision", "fp32"))
        trainer.module = averaging.module
    for note in trainer.notes:
        progress.line(note)
    if procs.main:
        write_metrics("running")  # an earlier "finished" must not outlive a kill of this process
    on = describe_device(trainer.device) + (f", {procs.world_size} processes ({averaging.how}), "
                                            f"{tcfg.batch_size // procs.world_size} images each per step"
                                            if averaging is not None else "")
    progress.line(f"training {mcfg.kind.upper()} ({mcfg.arch}, latent {mcfg.latent_dim}) on {dataset.name} "
                  f"{tuple(dataset.image_shape)}, {len(dataset.train):,} images, from epoch "
                  f"{run_.epochs_done:g} to {tcfg.epochs}, on {on}")
    previous = signal.signal(signal.SIGINT, lambda *a: trainer.cancel())
    result = None
    try:
        result = trainer.train()
    finally:
        signal.signal(signal.SIGINT, previous)
        if averaging is not None:
            averaging.close()
        try:
            writer.close()  # the epoch checkpoints written, or a failed write raised
        finally:
            if result is not None and procs.main:  # exactly where it stands: an epoch end, or the step it stopped after
                run_.save(ckpt_path)
    if not procs.main:
        return _other_rank_ends(procs, result)
    write_metrics(result.status, result.message, result.samples_per_s, result.epoch_samples_per_s)
    if result.status == "diverged":
        progress.line(f"vaestudio train: {result.message}")
        return 3
    if result.status == "cancelled":
        progress.line(f"{result.message}; saved in {ckpt_path}: `vaestudio train --out {out} --resume` continues it")
        return 130
    progress.line(f"wrote {ckpt_path} and {out / 'metrics.json'}")
    return 0


def _other_rank_ends(procs, result) -> int:
    """A rank other than 0 saves nothing and says only how it ended (rank 0 prints the rest)."""
    import sys

    who = f"vaestudio train (process {procs.rank} of {procs.world_size})"
    if result.status == "diverged":
        print(f"{who}: stopped with the others: {result.message}", file=sys.stderr)
        return 3
    if result.status == "cancelled":
        print(f"{who}: stopped with the others; process 0 saved the run", file=sys.stderr)
        return 130
    return 0
