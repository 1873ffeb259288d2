"""The packaging recipe (packaging/), checked without building: a real build takes minutes and
a gigabyte, so packaging/build.sh runs it and smoke-tests the app. Here: the scripts parse, the
spec (run with stand-ins for PyInstaller's classes) names an entry script and data files that
exist, takes every verb, and trims only what the app never loads; the desktop entry has the
keys a launcher needs; install-desktop.sh installs and removes an app folder."""
from __future__ import annotations

import configparser
import os
import pkgutil
import shutil
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest

from vaestudio.cli import VERB_MODULES

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "vaestudio.spec"
SCRIPTS = ("build.sh", "install-desktop.sh")


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_parse_and_are_executable(name):
    path = PACKAGING / name
    assert path.stat().st_mode & stat.S_IXUSR, f"{name} is not executable"
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr


def test_build_refuses_bad_options_before_doing_anything(tmp_path):
    inside = ROOT / "packaging-build-test-never-made"
    env = {**os.environ, "VAESTUDIO_BUILD_DIR": str(inside)}
    done = subprocess.run(["bash", str(PACKAGING / "build.sh"), "--no-smoke"], env=env,
                          capture_output=True, text=True, timeout=10)
    assert done.returncode == 2 and "outside the repository" in done.stderr
    assert not inside.exists()
    done = subprocess.run(["bash", str(PACKAGING / "build.sh"), "--bogus"],
                          env={**os.environ, "VAESTUDIO_BUILD_DIR": str(tmp_path / "b")},
                          capture_output=True, text=True, timeout=10)
    assert done.returncode == 2 and "--bogus" in done.stderr
    assert not (tmp_path / "b").exists()


class _Recorder:
    """Stands in for one of PyInstaller's spec classes: keeps its arguments."""

    def __init__(self, kind, *args, **kwargs):
        self.kind, self.args, self.kwargs = kind, args, kwargs


def _fake_analysis(collected):
    def analysis(scripts, **kwargs):
        a = _Recorder("Analysis", scripts, **kwargs)
        a.scripts, a.pure = scripts, []
        a.binaries = [(dest, "/src/" + dest, "BINARY") for dest in collected]
        a.datas = [(dest, "/src/" + dest, "DATA") for dest, _ in kwargs["datas"]] + \
                  [(dest + ".dat", "/src/" + dest, "DATA") for dest in collected]
        return a
    return analysis


def _walk_submodules(package):
    """What PyInstaller's collect_submodules returns, found without importing everything."""
    module = __import__(package)
    return [package] + [m.name for m in pkgutil.walk_packages(module.__path__, package + ".")]


# Files the hooks collect (paths inside the app's _internal folder) that the app must keep...
NEEDED = [
    "torch/lib/libtorch_cpu.so", "torch/lib/libtorch_python.so", "torch/lib/libc10.so",
    "torch/lib/libgomp.so.1", "torch/bin/torch_shm_manager",
    "PySide6/Qt/lib/libQt6Core.so.6", "PySide6/Qt/lib/libQt6Gui.so.6",
    "PySide6/Qt/lib/libQt6Widgets.so.6", "PySide6/Qt/lib/libQt6Svg.so.6",
    "PySide6/Qt/lib/libQt6XcbQpa.so.6", "PySide6/Qt/lib/libQt6WaylandClient.so.6",
    "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platforms/libqwayland.so", "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so", "PySide6/Qt/plugins/imageformats/libqjpeg.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "imageio_ffmpeg/binaries/ffmpeg-linux-x86_64",
]
# ...and ones it never loads.
UNNEEDED = [
    "torch/bin/test_api", "torch/bin/protoc", "torch/test/Dict_test",
    "torch/include/ATen/core/Tensor.h", "torch/share/cmake/Torch/TorchConfig.cmake",
    "torch/lib/libtorchbind_test.so", "PySide6/Qt/translations/qtbase_de.qm",
    "PySide6/Qt/plugins/sqldrivers/libqsqlite.so", "PySide6/Qt/plugins/tls/libqopensslbackend.so",
    "PySide6/Qt/plugins/imageformats/libqpdf.so", "PySide6/Qt/lib/libQt6Pdf.so.6",
    "PySide6/Qt/lib/libQt6Qml.so.6", "PySide6/Qt/lib/libQt6Quick.so.6",
]


def _run_spec(monkeypatch, trim="1"):
    """Execute the spec as PyInstaller would, with recording stand-ins; returns its namespace."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = _walk_submodules
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec prepends the repository
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("VAESTUDIO_TRIM", trim)
    namespace = {
        "SPECPATH": str(PACKAGING), "__file__": str(SPEC),
        "Analysis": _fake_analysis(NEEDED + UNNEEDED),
        "PYZ": lambda *a, **k: _Recorder("PYZ", *a, **k),
        "EXE": lambda *a, **k: _Recorder("EXE", *a, **k),
        "COLLECT": lambda *a, **k: _Recorder("COLLECT", *a, **k),
    }
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)
    return namespace


def test_spec_names_an_entry_that_runs_the_cli(monkeypatch):
    ns = _run_spec(monkeypatch)
    (entry,) = ns["a"].scripts
    entry = Path(entry)
    assert entry.is_file() and entry.parent == PACKAGING
    text = entry.read_text()
    assert "from vaestudio.cli import main" in text and "sys.exit(main())" in text
    assert ns["exe"].kwargs["name"] == "vaestudio" and ns["exe"].kwargs["console"] is True
    assert ns["coll"].kwargs["name"] == "vaestudio"


def test_spec_collects_the_files_the_app_reads(monkeypatch):
    from vaestudio.gui.app import ICON_NAME
    from vaestudio.gui.help_dialogs import GUIDE_FILE

    ns = _run_spec(monkeypatch)
    datas = ns["a"].kwargs["datas"]
    for source, dest in datas:
        assert Path(source).is_file() and not Path(source).is_symlink(), source
        assert not Path(dest).is_absolute()
    targets = {f"{dest}/{Path(source).name}" for source, dest in datas}
    assert f"vaestudio/gui/resources/{ICON_NAME}" in targets
    assert f"vaestudio/gui/resources/{GUIDE_FILE}" in targets
    icon = next(Path(s) for s, d in datas if Path(s).name == ICON_NAME)
    assert icon.read_bytes().lstrip().startswith(b"<")  # the drawing, not a dangling link


def test_spec_takes_every_verb(monkeypatch):
    hidden = set(_run_spec(monkeypatch)["a"].kwargs["hiddenimports"])
    assert {f"vaestudio.verbs.{name}" for name in VERB_MODULES} <= hidden
    assert "vaestudio.gui.main_window" in hidden and "vaestudio.core.data.digits" in hidden


def test_spec_trims_only_what_the_app_never_loads(monkeypatch):
    a = _run_spec(monkeypatch)["a"]
    kept = {dest for dest, _, _ in a.binaries}
    assert set(NEEDED) <= kept
    assert not set(UNNEEDED) & kept
    assert "PySide6.QtQml" in a.kwargs["excludes"]
    # The app's own Qt modules, and those pyqtgraph imports when it loads or exports SVG.
    needed_qt = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg",
                 "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets"}
    assert not needed_qt & set(a.kwargs["excludes"])


def test_spec_keeps_everything_when_trimming_is_off(monkeypatch):
    a = _run_spec(monkeypatch, trim="0")["a"]
    assert {dest for dest, _, _ in a.binaries} == set(NEEDED + UNNEEDED)
    assert "PySide6.QtQml" not in a.kwargs["excludes"]


def _desktop_entry(path):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_has_the_required_keys():
    from vaestudio.gui.settings import DESKTOP_FILE

    path = PACKAGING / f"{DESKTOP_FILE}.desktop"
    entry = _desktop_entry(path)
    assert entry["Type"] == "Application"
    assert entry["Name"] and entry["Exec"]
    assert entry["Icon"] == DESKTOP_FILE and (ROOT / "resources" / f"{DESKTOP_FILE}.svg").is_file()
    assert entry["Categories"].endswith(";")
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=10)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout


def test_install_desktop_installs_and_removes(tmp_path):
    app = tmp_path / "dist" / "vaestudio"
    (app / "_internal").mkdir(parents=True)
    (app / "vaestudio").write_text("#!/bin/sh\necho vaestudio 0.0\n")
    (app / "vaestudio").chmod(0o755)
    prefix = tmp_path / "prefix"
    script = str(PACKAGING / "install-desktop.sh")
    done = subprocess.run(["bash", script, "--app", str(app), "--prefix", str(prefix)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    exe = prefix / "lib" / "vaestudio" / "vaestudio"
    assert (prefix / "lib" / "vaestudio" / "_internal").is_dir()
    assert subprocess.run([str(prefix / "bin" / "vaestudio")], capture_output=True, text=True,
                          timeout=10).stdout.strip() == "vaestudio 0.0"
    entry = _desktop_entry(prefix / "share" / "applications" / "vaestudio.desktop")
    assert entry["Exec"] == str(exe) and entry["TryExec"] == str(exe)
    assert entry["Icon"] == "vaestudio" and entry["Name"] == "VAE Studio"
    icon = prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / "vaestudio.svg"
    assert icon.read_bytes() == (ROOT / "resources" / "vaestudio.svg").read_bytes()

    done = subprocess.run(["bash", script, "--prefix", str(prefix), "--uninstall"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert not exe.exists() and not icon.exists()
    assert not (prefix / "bin" / "vaestudio").is_symlink()
    assert not (prefix / "share" / "applications" / "vaestudio.desktop").exists()


def test_install_desktop_refuses_a_missing_app(tmp_path):
    done = subprocess.run(["bash", str(PACKAGING / "install-desktop.sh"), "--app", str(tmp_path / "none"),
                           "--prefix", str(tmp_path / "prefix")], capture_output=True, text=True, timeout=10)
    assert done.returncode == 2 and "no built app" in done.stderr
    assert not (tmp_path / "prefix").exists()
