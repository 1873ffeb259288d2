"""Bounded number types for command-line options: every numeric option of every verb is parsed by
one of these, so an out-of-range, non-finite or malformed value is refused in one line naming the
option (argparse prefixes "argument --NAME:") before any work starts."""
from __future__ import annotations

import argparse
import math

MAX_SEED = 2**63 - 1
# Output sizes: generous for real use, far below what exhausts memory on a laptop.
MAX_INDEX = 10**9  # an image index or count inside a split
MAX_FRAMES = 1_000  # frames of an interpolation or attribute sweep
MAX_SAMPLES = 10_000  # prior samples in one grid
MAX_LATTICE = 100  # lattice sites per side (10,000 decodes)
MAX_SCALE = 16  # pixel enlargement of each decoded image
MAX_PICTURE_SIDE = 8_192  # a scatter picture's side in pixels


def _fmt(v) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"


def int_in(lo: int, hi: int):
    """An argparse type: a whole number in [lo, hi]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text[:40]!r}") from None
        if not lo <= value <= hi:
            shown = _fmt(value) if abs(value) < 10**30 else text[:12] + "..."
            raise argparse.ArgumentTypeError(f"must be between {_fmt(lo)} and {_fmt(hi)}, not {shown}")
        return value

    parse.bounds = (lo, hi)
    parse.__name__ = "whole number"
    return parse


def float_in(lo: float, hi: float, *, lo_open: bool = False):
    """An argparse type: a finite number in [lo, hi] (or (lo, hi] with `lo_open`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be a number, not {text[:40]!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, not {text[:40]}")
        if value < lo or value > hi or (lo_open and value == lo):
            rng = f"above {_fmt(lo)} and at most {_fmt(hi)}" if lo_open else f"between {_fmt(lo)} and {_fmt(hi)}"
            raise argparse.ArgumentTypeError(f"must be {rng}, not {value:g}")
        return value

    parse.bounds = (lo, hi)
    parse.__name__ = "number"
    return parse


def seed_type():
    return int_in(0, MAX_SEED)


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes print one line (what is wrong and where to read more) and exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
