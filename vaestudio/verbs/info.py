"""`vaestudio info`: what a run is: kind, architecture, progress, loss terms, data sets, settings."""
from __future__ import annotations

import json

from .common import add_run_arg, load_run


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="describe a run: kind, progress, data sets, settings",
                       description="Print what a run is: its kind and architecture, epochs done (a fraction "
                                   "when it stopped mid-epoch) and its target, its loss terms, the data sets it "
                                   "was trained on with the epochs spent on each, and its training settings.")
    add_run_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    run_ = load_run(args)
    print(json.dumps(run_.info()) if args.json else run_.describe())
    return 0
