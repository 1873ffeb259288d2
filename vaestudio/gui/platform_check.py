"""Before the window: on Linux, name the system libraries Qt's xcb plugin cannot load.

Without them (a minimal Debian or Ubuntu lacks libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1)
Qt prints "could not load the Qt platform plugin xcb" and aborts, which tells a person nothing
about what to install. `ldd` on the plugin lists what is "not found"; `missing_message` turns
that into one line naming the Debian packages. Imports no Qt (it runs before QApplication).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

LDD_TIMEOUT_S = 5.0

# Shared library (soname) -> the Debian/Ubuntu package that ships it.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found\s*$")


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries `ldd` reported as "not found", in order, without repeats."""
    found: list[str] = []
    for line in ldd_output.splitlines():
        m = _NOT_FOUND.match(line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return found


def missing_message(ldd_output: str) -> Optional[str]:
    """The one line to print when libraries are missing, else None."""
    libs = missing_libraries(ldd_output)
    if not libs:
        return None
    packages = list(dict.fromkeys(DEBIAN_PACKAGES[lib] for lib in libs if lib in DEBIAN_PACKAGES))
    install = f" (install: sudo apt-get install {' '.join(packages)})" if packages else ""
    return f"vaestudio: the window needs system libraries that are missing: {', '.join(libs)}{install}"


def xcb_plugin() -> Optional[Path]:
    """PySide6's xcb platform plugin, found without importing Qt's libraries."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def should_check(environ=os.environ, platform: str = sys.platform) -> bool:
    """Only where Qt will pick xcb: Linux, a DISPLAY, and no other platform asked for (left
    unset in a Wayland session, Qt picks Wayland first and may never need xcb)."""
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "")
    if not asked:
        return not (environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland")
    return re.split(r"[:;]", asked)[0].strip() == "xcb"


def check_xcb(environ=os.environ, platform: str = sys.platform) -> Optional[str]:
    """The message about missing libraries, or None when all is well or it cannot be told
    (not Linux/xcb, no ldd, no plugin, ldd failing or slow: then Qt speaks for itself)."""
    if not should_check(environ, platform):
        return None
    ldd = shutil.which("ldd")
    plugin = xcb_plugin()
    if ldd is None or plugin is None:
        return None
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S,
                             errors="replace").stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return missing_message(out)
