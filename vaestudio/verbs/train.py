"""`vaestudio train`: train an AE or VAE headless, writing RUN/model.pt and RUN/metrics.json."""
from __future__ import annotations

import json
import signal
from pathlib import Path

from .common import TerminalProgress, add_data_args


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model headless",
                       description="Train an autoencoder or VAE. Writes RUN/model.pt after every epoch "
                                   "(so an interruption loses at most one) and RUN/metrics.json.")
    add_data_args(p)
    p.add_argument("--model", choices=("ae", "vae"), default="vae", help="plain autoencoder or VAE (default vae)")
    p.add_argument("--arch", choices=("mlp", "conv"), default="mlp", help="backbone (default mlp)")
    p.add_argument("--latent-dim", type=int, default=2, metavar="D", help="latent dimension (default 2)")
    p.add_argument("--hidden", type=int, nargs="+", default=[400], metavar="H",
                   help="MLP hidden sizes, encoder order (default 400)")
    p.add_argument("--conv-width", type=int, default=32, metavar="C",
                   help="channels of the first conv layer, doubling per layer (default 32)")
    p.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default=None,
                   help="pixel likelihood (default: bernoulli for grey images, gaussian for colour)")
    p.add_argument("--sigma", type=float, default=0.1,
                   help="pixel std of the Gaussian likelihood; 0 learns it (default 0.1)")
    p.add_argument("--beta", type=float, default=1.0, help="weight on the KL term (beta-VAE; default 1)")
    p.add_argument("--kl-warmup", type=int, default=0, metavar="N",
                   help="ramp the KL weight linearly from 0 over the first N epochs")
    p.add_argument("--epochs", type=int, default=10, help="total epochs (with --resume: the total to reach)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder to write")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in RUN_DIR from its checkpoint up to --epochs in total")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from ..core.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
    from ..core.config import ModelConfig, TrainConfig
    from ..core.device import describe_device
    from ..core.errors import ConfigError
    from ..core.models import build_model
    from ..core.training import Trainer
    from .datasets import dataset_from_args

    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    ckpt_path = out / CHECKPOINT_NAME
    progress = TerminalProgress()
    tcfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device)
    if args.resume:
        ckpt = load_checkpoint(ckpt_path)
        dataset = dataset_from_args(args, default_spec=ckpt.dataset_spec,
                                    progress=lambda d, t, m: progress.bar(d, t, m))
        model, mcfg = ckpt.model, ckpt.model_config
        history, opt_state, start = ckpt.history, ckpt.optimizer_state, ckpt.epoch
        if start >= tcfg.epochs:
            progress.line(f"{ckpt_path} already has {start} epochs; ask for more with --epochs")
    else:
        if ckpt_path.exists():
            raise ConfigError(f"{ckpt_path} exists; pass --resume to continue it or choose another --out")
        dataset = dataset_from_args(args, progress=lambda d, t, m: progress.bar(d, t, m))
        c = dataset.image_shape[0]
        likelihood = args.likelihood or ("bernoulli" if c == 1 else "gaussian")
        mcfg = ModelConfig(kind=args.model, arch=args.arch, image_shape=dataset.image_shape,
                           latent_dim=args.latent_dim, hidden=tuple(args.hidden), conv_width=args.conv_width,
                           likelihood=likelihood, gaussian_sigma=(args.sigma or None), beta=args.beta,
                           kl_warmup_epochs=args.kl_warmup)
        torch.manual_seed(args.seed)
        model = build_model(mcfg)
        history, opt_state, start = [], None, 0

    def on_event(ev):
        if ev.kind == "step":
            progress.bar(ev.step, ev.steps_per_epoch,
                         f"epoch {ev.epoch}/{ev.epochs}  loss {ev.loss:.2f}  {ev.samples_per_s:,.0f} img/s")
        else:
            val = "" if ev.val_loss is None else f"  val {ev.val_loss:.2f}"
            progress.line(f"epoch {ev.epoch}/{ev.epochs}  loss {ev.train_loss:.2f} (recon {ev.train_recon:.2f} "
                          f"+ kl {ev.train_kl:.2f}){val}  {ev.samples_per_s:,.0f} img/s  {ev.seconds:.1f}s")
            save_checkpoint(ckpt_path, model, train_config=tcfg, dataset_spec=dataset.spec,
                            optimizer=trainer.optimizer, history=trainer.history, epoch=ev.epoch)

    trainer = Trainer(model, dataset, tcfg, [on_event], history=history, optimizer_state=opt_state, start_epoch=start)
    progress.line(f"training {mcfg.kind.upper()} ({mcfg.arch}, latent {mcfg.latent_dim}) on {dataset.name} "
                  f"{tuple(dataset.image_shape)}, {len(dataset.train):,} images, on {describe_device(trainer.device)}")
    previous = signal.signal(signal.SIGINT, lambda *a: trainer.cancel())
    try:
        result = trainer.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    if not ckpt_path.exists():  # nothing finished yet (cancelled in epoch 1, or 0 epochs asked)
        save_checkpoint(ckpt_path, model, train_config=tcfg, dataset_spec=dataset.spec,
                        optimizer=trainer.optimizer, history=trainer.history, epoch=trainer.epoch)
    metrics = {
        "status": result.status,
        "message": result.message,
        "epochs": result.epochs_done,
        "samples_per_s": result.samples_per_s,
        "device": str(trainer.device),
        "model": mcfg.to_dict(),
        "train": tcfg.to_dict(),
        "dataset": dataset.spec.to_dict(),
        "history": result.history,
    }
    from ..core.paths import atomic_write_bytes
    atomic_write_bytes(out / "metrics.json", json.dumps(metrics, indent=2).encode())
    if result.status == "diverged":
        progress.line(f"vaestudio train: {result.message}")
        return 3
    if result.status == "cancelled":
        progress.line(f"stopped: {result.message}; the last finished epoch is in {ckpt_path}")
        return 130
    progress.line(f"wrote {ckpt_path} and {out / 'metrics.json'}")
    return 0
