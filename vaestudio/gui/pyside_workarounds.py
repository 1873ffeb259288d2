"""Work-arounds for bugs of the PySide6 build we run on, applied when `vaestudio.gui` is imported.

PySide6 6.12's wheels return None, True and False to Python without taking a reference (every
void method call, every `Signal.emit`). That is harmless on Python 3.12+, where these objects
are immortal, but on 3.11 each call lowers their reference counts until Python aborts with
"Fatal Python error: none_dealloc" -- after about 5,000 calls, i.e. seconds into training.
`immortalise_singletons` raises the three counts so far that they never reach zero.
"""
from __future__ import annotations

import sys

_BOOST = 1 << 40  # a trillion leaked references before the count could reach zero


def immortalise_singletons() -> bool:
    """Make None, True and False effectively immortal on CPython < 3.12; True if it did."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    import ctypes

    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    return True
