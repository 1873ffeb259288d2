"""`vaestudio` opens the window; `vaestudio VERB ...` runs the core headless.

Each verb lives in its own module under `vaestudio/verbs/` exposing `add_parser(subparsers)`
(which sets `func` on its parser) so this file never grows with the verbs. Errors derived from
`VaeStudioError` print one line and exit 2; any other exception is a last resort that also
prints one line (a plain description and the files involved) and exits 2; usage mistakes print
one line too. `--debug` shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order `--help` lists them in.
VERB_MODULES = (
    "train", "info", "evaluate", "compare", "sample", "datasets",
    "encode", "scatter", "lattice", "attribute", "groups", "interpolate",
    "screenshot",
    "traverse",
)


def build_parser() -> argparse.ArgumentParser:
    from .verbs.numbers import OneLineParser

    p = OneLineParser(
        prog="vaestudio",
        description="VAE Studio: train autoencoders and VAEs and explore what they learned. "
                    "With no verb, opens the window.",
    )
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    from . import __version__
    p.add_argument("--version", action="version", version=f"vaestudio {__version__}")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        importlib.import_module(f"vaestudio.verbs.{name}").add_parser(sub)
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv == ["--debug"]:
        from .gui.app import run_app
        return run_app(debug="--debug" in argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .core.errors import VaeStudioError, plain_message
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"vaestudio {args.verb}: interrupted", file=sys.stderr)
        return 130
    except VaeStudioError as e:
        if args.debug:
            raise
        print(f"vaestudio {args.verb}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file or folder the system refused: the message names it
        if args.debug:
            raise
        print(f"vaestudio {args.verb}: error: {plain_message(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # the last resort: one line, never a bare traceback without --debug
        if args.debug:
            raise
        print(f"vaestudio {args.verb}: error: {plain_message(e)}{_subject(args)} "
              f"(run with --debug for details)", file=sys.stderr)
        return 2


def _subject(args) -> str:
    """The files an unexpected failure may concern, as the arguments named them."""
    named = [f"{label} {getattr(args, dest)}" for dest, label in
             (("run", "run"), ("data_root", "data"), ("out", "output")) if getattr(args, dest, None)]
    return f" [{', '.join(named)}]" if named else ""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
