"""`vaestudio info`: what a run is: kind, architecture, progress, loss terms, data sets, settings;
optionally its loss history, one row per epoch, as CSV."""
from __future__ import annotations

import json
import sys

from .common import add_run_arg, load_run
from .run_views import out_path


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="describe a run: kind, progress, data sets, settings",
                       description="Print what a run is: its kind and architecture, epochs done (a fraction "
                                   "when it stopped mid-epoch) and its target, its loss terms, the data sets it "
                                   "was trained on with the epochs spent on each, and its training settings.")
    add_run_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--history-csv", type=out_path(".csv"), metavar="FILE.csv",
                   help="also write the loss history: one row per finished epoch (epoch, dataset, dataset_name, "
                        "train_ and val_ terms, lr, samples_per_s, seconds)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.history_table import run_dataset_names, write_history_csv

    run_ = load_run(args)
    print(json.dumps(run_.info()) if args.json else run_.describe())
    if args.history_csv:
        rows = write_history_csv(args.history_csv, run_.history, run_dataset_names(run_))
        print(f"{rows} epoch records -> {args.history_csv}", file=sys.stderr if args.json else sys.stdout)
    return 0
