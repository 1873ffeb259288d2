"""Before the window starts on Linux: the xcb plugin's missing system libraries are named in
one line with the apt-get command, from `ldd`'s output."""
from __future__ import annotations

import subprocess

import pytest

from vaestudio.gui import platform_check as pc

LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd6b5f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0e0c000000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f0e0bfd0000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibexotic.so.7 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e0bc00000)
"""

LDD_FINE = """\
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f0e0bfe0000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e0bc00000)
"""


def test_missing_libraries_from_ldd_output():
    assert pc.missing_libraries(LDD_MISSING) == ["libxcb-cursor.so.0", "libxcb-icccm.so.4",
                                                 "libxcb-keysyms.so.1", "libexotic.so.7"]
    assert pc.missing_libraries(LDD_FINE) == [] and pc.missing_libraries("") == []


def test_message_names_libraries_and_the_install_command():
    msg = pc.missing_message(LDD_MISSING)
    assert "\n" not in msg
    assert msg.startswith("vaestudio: the window needs system libraries that are missing: libxcb-cursor.so.0")
    assert "libexotic.so.7" in msg
    assert msg.endswith("(install: sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1)")
    assert pc.missing_message(LDD_FINE) is None
    only_unknown = pc.missing_message("\tlibexotic.so.7 => not found\n")
    assert "libexotic.so.7" in only_unknown and "apt-get" not in only_unknown


def test_common_xcb_libraries_map_to_debian_packages():
    for lib, package in {"libxcb-image.so.0": "libxcb-image0", "libxcb-render-util.so.0": "libxcb-render-util0",
                         "libxcb-xkb.so.1": "libxcb-xkb1", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
                         "libxcb-shape.so.0": "libxcb-shape0", "libxcb-randr.so.0": "libxcb-randr0",
                         "libxcb-xinerama.so.0": "libxcb-xinerama0"}.items():
        assert pc.missing_message(f"\t{lib} => not found\n").endswith(f"install: sudo apt-get install {package})")


@pytest.mark.parametrize("env,platform,expected", [
    ({"DISPLAY": ":0"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "darwin", False),
    ({"DISPLAY": ":0"}, "win32", False),
])
def test_checked_only_where_qt_uses_xcb(env, platform, expected):
    assert pc.should_check(env, platform) is expected


def test_check_runs_ldd_on_the_plugin_and_skips_without_ldd(monkeypatch, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(pc, "xcb_plugin", lambda: plugin)
    monkeypatch.setattr(pc.shutil, "which", lambda name: "/usr/bin/ldd")
    ran = []

    def fake_run(cmd, **kw):
        ran.append((cmd, kw.get("timeout")))
        return subprocess.CompletedProcess(cmd, 0, LDD_MISSING, "")
    monkeypatch.setattr(pc.subprocess, "run", fake_run)
    msg = pc.check_xcb({"DISPLAY": ":0"}, "linux")
    assert ran == [(["/usr/bin/ldd", str(plugin)], pc.LDD_TIMEOUT_S)] and "libxcb-cursor0" in msg

    def slow(cmd, **kw):
        raise subprocess.TimeoutExpired(cmd, kw["timeout"])
    monkeypatch.setattr(pc.subprocess, "run", slow)
    assert pc.check_xcb({"DISPLAY": ":0"}, "linux") is None  # too slow: Qt speaks for itself

    monkeypatch.setattr(pc.shutil, "which", lambda name: None)
    monkeypatch.setattr(pc.subprocess, "run", lambda *a, **k: pytest.fail("no ldd: nothing is run"))
    assert pc.check_xcb({"DISPLAY": ":0"}, "linux") is None
    assert pc.check_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None


def test_the_real_plugin_is_found():
    pytest.importorskip("PySide6")
    path = pc.xcb_plugin()
    assert path is None or path.name == "libqxcb.so"


def test_vaestudio_prints_one_line_and_exits_2(monkeypatch, capsys):
    from vaestudio.cli import main
    from vaestudio.gui import app

    monkeypatch.setattr(pc, "check_xcb", lambda: pc.missing_message(LDD_MISSING))
    monkeypatch.setattr(app, "open_window", lambda *a: pytest.fail("no window without the libraries"))
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert err.strip().count("\n") == 0 and "sudo apt-get install libxcb-cursor0" in err and out == ""
