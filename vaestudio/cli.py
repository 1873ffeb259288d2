"""`vaestudio` opens the window; `vaestudio VERB ...` runs the core headless.

Each verb lives in its own module under `vaestudio/verbs/` exposing `add_parser(subparsers)`
(which sets `func` on its parser) so this file never grows with the verbs. Errors derived from
`VaeStudioError` print one line and exit 2; `--debug` shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order `--help` lists them in.
VERB_MODULES = (
    "train", "info", "evaluate", "sample", "datasets",
    "encode", "scatter", "lattice", "attribute", "interpolate",
    "screenshot",
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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
    from .core.errors import VaeStudioError
    try:
        return int(args.func(args) or 0)
    except VaeStudioError as e:
        if args.debug:
            raise
        print(f"vaestudio {args.verb}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vaestudio {args.verb}: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as e:
        if args.debug:
            raise
        print(f"vaestudio {args.verb}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
