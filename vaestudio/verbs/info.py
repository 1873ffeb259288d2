"""`vaestudio info`: what a run is: kind, architecture, progress, loss terms, data sets, settings,
the latent usage last measured (or, with --usage, measured now); optionally its loss history, one
row per epoch, as CSV."""
from __future__ import annotations

import json
import sys

from .common import add_data_args, add_run_arg, load_run, open_run_dataset
from .run_views import out_path

USAGE_SPLITS = ("validation", "test", "train")


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="describe a run: kind, progress, data sets, settings",
                       description="Print what a run is: its kind and architecture, epochs done (a fraction "
                                   "when it stopped mid-epoch) and its target, its loss terms, the data sets it "
                                   "was trained on with the epochs spent on each, its training settings, and "
                                   "the latent usage (KL per dimension, active units) the window last measured.")
    add_run_arg(p)
    add_data_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--usage", action="store_true",
                   help="measure the latent usage now (KL per dimension and active units: dimensions whose "
                        "posterior mean varies by more than 0.01) on the run's data set (or --dataset), instead "
                        "of showing the one stored in the run")
    p.add_argument("--usage-split", choices=USAGE_SPLITS, default="validation",
                   help="the split --usage measures (default validation; test when the data set has none)")
    p.add_argument("--history-csv", type=out_path(".csv"), metavar="FILE.csv",
                   help="also write the loss history: one row per finished epoch (epoch, dataset, dataset_name, "
                        "train_ and val_ terms, lr, samples_per_s, seconds)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.history_table import run_dataset_names, write_history_csv
    from ..core.usage_record import USAGE_KEY, check_usage_record, describe_usage, usage_line

    run_ = load_run(args)
    dim = int(run_.model_config.latent_dim)
    source = str(run_.path or args.run)
    if args.usage:
        usage, note = _measure_usage(args, run_)
    else:
        usage, problem = check_usage_record(run_.extra.get(USAGE_KEY), dim)
        note = usage_line(run_.extra, dim, run_.epochs_done, source) if problem else None
    if args.json:
        info = run_.info()
        info["usage"] = usage
        if note:
            info["usage_note"] = note
        print(json.dumps(info))
    else:
        print(run_.describe())
        if usage is not None:
            print(describe_usage(usage, run_.epochs_done))
        elif note:
            print(note)
    if args.history_csv:
        rows = write_history_csv(args.history_csv, run_.history, run_dataset_names(run_))
        print(f"{rows} epoch records -> {args.history_csv}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _measure_usage(args, run_):
    """(the usage record measured now on the run's data set, or None; a note when there is none)."""
    from ..core.errors import ConfigError
    from ..core.kinds import POSTERIOR
    from ..core.metrics import NO_POSTERIOR_USAGE, latent_usage
    from ..core.run import describe_spec
    from ..core.usage_record import usage_record

    kind = run_.kind
    if not kind.has(POSTERIOR):
        return None, f"latent usage: not measured ({kind.title}: {NO_POSTERIOR_USAGE})"
    ds = open_run_dataset(args, run_)
    split = args.usage_split
    images = ds.split(split).images
    if split == "validation" and len(images) == 0:
        split, images = "test", ds.split("test").images
    if len(images) == 0:
        raise ConfigError(f"the {split} split of {ds.name} is empty: choose another --usage-split")
    usage = latent_usage(run_.model, images)
    return usage_record(usage, epoch=run_.epochs_done, split=split, dataset=describe_spec(ds.spec),
                        n=len(images)), None
