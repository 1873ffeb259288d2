"""Work-arounds for bugs of the PySide6 build we run on, applied when `vaestudio.gui` is imported.

PySide6 6.12's wheels return None, True and False to Python without taking a reference (every
void method call, every `Signal.emit`). That is harmless on Python 3.12+, where these objects
are immortal, but on 3.11 each call lowers their reference counts until Python aborts with
"Fatal Python error: none_dealloc" -- after about 5,000 calls, i.e. seconds into training.
`immortalise_singletons` raises the three counts so far that they never reach zero.

pyproject.toml keeps 6.12 off Python < 3.12 (6.11.3 was measured clean); this guard is for an
environment that has 6.12 anyway, and does nothing elsewhere.
"""
from __future__ import annotations

import sys

_BOOST = 1 << 40  # a trillion leaked references before the count could reach zero


def broken_pyside() -> bool:
    """True for the PySide6 releases known to leak references to None/True/False."""
    import PySide6

    return PySide6.__version__.startswith("6.12.")


def immortalise_singletons() -> bool:
    """Make None, True and False effectively immortal under PySide6 6.12 on CPython < 3.12.

    Returns True if it did.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not broken_pyside():
        return False
    import ctypes

    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    return True
