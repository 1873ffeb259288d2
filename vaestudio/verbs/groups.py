"""`vaestudio groups`: list, add, remove and export the groups of images saved in a run.

A group is a named set of images of one split, kept in the run so the window and
`vaestudio attribute --from-group A --to-group B` find it again. --add picks one by a
label/attribute filter (--where, on the encoded --split) or from an index file (--indices);
--export writes one as an index file. Changes rewrite the run atomically, holding its folder's
lock, so a run being trained is never overwritten.
"""
from __future__ import annotations

import json
import sys

from ..core.data.base import SPLITS
from .common import add_run_arg, load_run, open_run_dataset
from .data_args import add_data_args
from .run_views import encode_run, out_path

INDEX_SUFFIXES = (".txt", ".csv", ".npy")  # core.latent.groups.INDEX_FILE_SUFFIXES, without importing numpy here


def add_parser(sub) -> None:
    p = sub.add_parser("groups", help="list, add, remove or export the groups of images saved in a run",
                       description="With no action, lists the saved groups (name, split, size, data set). "
                                   "A --where filter joins attribute or label terms with 'and', each optionally "
                                   "prefixed by 'not': --where 'Smiling and not Eyeglasses', --where 7.")
    add_run_arg(p)
    add_data_args(p)
    act = p.add_mutually_exclusive_group()
    act.add_argument("--add", metavar="NAME", help="save a new group NAME (with --where or --indices)")
    act.add_argument("--remove", metavar="NAME", help="remove the saved group NAME")
    act.add_argument("--export", metavar="NAME", help="write the group NAME as an index file (with --out)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--where", metavar="QUERY", help="--add: the images of --split matching this filter")
    how.add_argument("--indices", metavar="FILE",
                     help="--add: the images of --split listed in FILE (.txt or .csv: whole numbers; .npy: "
                          "a 1-D integer array)")
    p.add_argument("--split", default="validation", choices=SPLITS,
                   help="--add: the split the group is picked on (default validation)")
    p.add_argument("--replace", action="store_true", help="--add: replace a saved group of the same name")
    p.add_argument("--out", type=out_path(*INDEX_SUFFIXES), metavar="FILE.txt|.csv|.npy",
                   help="--export: the index file to write")
    p.add_argument("--json", action="store_true", help="list the groups as JSON")
    p.set_defaults(func=run)


def _check(args) -> None:
    from ..core.errors import VaeStudioError

    if args.add is not None and args.where is None and args.indices is None:
        raise VaeStudioError("--add needs --where QUERY or --indices FILE")
    if args.add is None and (args.where is not None or args.indices is not None or args.replace):
        raise VaeStudioError("--where, --indices and --replace go with --add NAME")
    if (args.export is None) != (args.out is None):
        raise VaeStudioError("--export NAME and --out FILE go together")
    if args.json and (args.add or args.remove or args.export):
        raise VaeStudioError("--json lists the groups; it does not go with --add, --remove or --export")


def _named(groups, name: str, ckpt, args):
    from ..core.errors import VaeStudioError
    from ..core.latent import find_group

    g = find_group(groups, name)
    if g is None:
        names = ", ".join(x.name for x in groups) or "none"
        raise VaeStudioError(f"no group called {name!r} is saved in {ckpt.path or args.run} (saved: {names})")
    return g


def _warn(problems) -> None:
    for text in problems:
        print(f"vaestudio groups: warning: {text}", file=sys.stderr)


def run(args) -> int:
    _check(args)
    if args.add is None and args.remove is None:
        return _read_only(args)
    from ..core.checkpoint import resolve_checkpoint_path
    from ..core.run import Run
    from ..core.run_lock import RunLock

    path = resolve_checkpoint_path(args.run)
    if not path.is_file():
        from ..core.errors import CheckpointError
        raise CheckpointError(path, "no such file")
    with RunLock(path.parent):  # no training may start on this run while it is read, changed and written
        from ..core.device import resolve_device

        ckpt = Run.load(path, device=resolve_device(args.device)).require_finite()
        return _change(args, ckpt, path)


def _read_only(args) -> int:
    from ..core.latent import read_groups, write_index_file

    ckpt = load_run(args)
    groups, problems = read_groups(ckpt)
    _warn(problems)
    if args.export is not None:
        g = _named(groups, args.export, ckpt, args)
        write_index_file(args.out, g.indices, comment=f"group {g.name!r} of the {g.split} split of "
                                                      f"{g.dataset or 'the data set'}")
        print(f"group {g.name!r}: {len(g)} images of the {g.split} split -> {args.out}")
        return 0
    rows = [{"name": g.name, "split": g.split, "size": len(g), "dataset": g.dataset} for g in groups]
    if args.json:
        print(json.dumps({"run": str(ckpt.path or args.run), "groups": rows, "problems": problems}, indent=2))
        return 0
    if not rows:
        print(f"no groups saved in {ckpt.path or args.run}")
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['split']:<10}  {r['size']:>7} images  {r['dataset'] or '(any data set)'}")
    return 0


def _change(args, ckpt, path) -> int:
    from ..core.errors import VaeStudioError
    from ..core.latent import (dataset_identity, find_group, make_group, read_groups, read_index_file, select,
                               write_groups)

    groups, problems = read_groups(ckpt)
    _warn(problems)
    if args.remove is not None:
        gone = _named(groups, args.remove, ckpt, args)
        groups = [g for g in groups if g is not gone]
        what = f"removed group {gone.name!r}"
    else:
        old = find_group(groups, args.add)
        if old is not None and not args.replace:
            raise VaeStudioError(f"a group called {old.name!r} is already saved in {path}: give --replace to "
                                 f"overwrite it, or choose another name")
        if args.where is not None:
            enc, ds = encode_run(args, ckpt, args.split)
            indices = select(enc, args.where)
            if indices.size == 0:
                raise VaeStudioError(f"--where {args.where!r} matches no image of the {args.split} split")
        else:
            ds = open_run_dataset(args, ckpt)
            indices = read_index_file(args.indices, len(ds.split(args.split)))
        new = make_group(args.add, args.split, indices, dataset_identity(ds))
        groups = [new if g is old else g for g in groups] if old is not None else groups + [new]
        what = f"{'replaced' if old is not None else 'saved'} group {new.name!r}: {len(new)} images of the " \
               f"{new.split} split of {new.dataset}"
    write_groups(ckpt, groups)
    ckpt.save(path)
    print(f"{what} ({len(groups)} group{'s' if len(groups) != 1 else ''} in {path})")
    return 0
