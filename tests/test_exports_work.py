"""Issue 13, exports that are offered must work: MP4 from the window and the CLI in the default
install (read back with imageio), a clear message when ffmpeg fails, choosers that reopen in the
folder each kind of export last used (across sessions too), and an animation's frame count that
is its panel's steps."""
from __future__ import annotations

import imageio.v2 as imageio
import pytest
from PIL import Image

from helpers import train_tiny_run
from test_explore_support import explore_window
from vaestudio.cli import main


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    yield from explore_window(qtbot, tmp_path, monkeypatch)


def read_mp4(path):
    """(frame count, (width, height), first frame shape) as ffmpeg reads the file back."""
    reader = imageio.get_reader(path, format="FFMPEG")
    try:
        return reader.count_frames(), tuple(reader.get_meta_data()["size"]), reader.get_data(0).shape
    finally:
        reader.close()


def answer_with(monkeypatch, options, asked):
    """The animation dialog answered with `options`; records (suggested path, frames offered)."""
    from vaestudio.gui.explore import export_dialog

    def answer(parent, title, suggested, frames=24, scale=1):
        asked.append((suggested, frames))
        return options
    monkeypatch.setattr(export_dialog, "ask_animation_options", answer)


def run_export(qtbot, tools, key):
    with qtbot.waitSignal(tools.export.exported, timeout=20_000) as blocker:
        tools.export.actions[key].trigger()
    qtbot.waitUntil(lambda: not tools.export.busy, timeout=5000)
    return blocker.args


# ============================================================================ MP4

def test_window_exports_the_interpolation_as_mp4_with_the_requested_frames(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.gui.explore.export_dialog import AnimationOptions

    tools = window.explore
    tools.interpolation.start.set_index(0)
    tools.interpolation.end.set_index(9)
    tools.interpolation.steps.setValue(12)
    path, asked = tmp_path / "path.mp4", []
    answer_with(monkeypatch, AnimationOptions(path=str(path), frames=9, frame_ms=100, scale=2), asked)
    written, info = run_export(qtbot, tools, "interpolation_animation")
    assert asked[0][1] == 12  # the dialog started from the panel's steps
    assert written == str(path) and info.n_frames == 9
    n, size, shape = read_mp4(path)
    assert n == 9 and size == info.size == (32, 32)  # 12x12 decodes enlarged twice, padded to 16s
    assert shape == (32, 32, 3)
    assert tools.interpolation.steps.value() == 9  # the panel follows the count exported
    assert "9 frames" in window.statusBar().currentMessage()


def test_window_exports_the_attribute_sweep_as_mp4(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.gui.explore.export_dialog import AnimationOptions

    tools = window.explore
    tools.mixer.set_chosen("TR")
    before = tools.mixer.steps.value()
    path, asked = tmp_path / "sweep.mp4", []
    answer_with(monkeypatch, AnimationOptions(path=str(path), frames=5, frame_ms=50, scale=3), asked)
    written, info = run_export(qtbot, tools, "sweep_animation")
    assert asked[0][1] == before != 5 and tools.mixer.steps.value() == 5  # from the panel, then back to it
    n, size, _ = read_mp4(path)
    assert n == 5 and size == info.size == (48, 48)  # 36 pixels padded to 48


def test_cli_interpolate_writes_an_mp4_of_the_requested_frames(tmp_path_factory, tmp_path):
    run = train_tiny_run(tmp_path_factory)
    out = tmp_path / "x.mp4"
    assert main(["interpolate", str(run), "--from", "0", "--to", "1", "--steps", "11", "--scale", "1",
                 "--out", str(out)]) == 0
    n, (w, h), _ = read_mp4(out)
    assert n == 11 and w % 16 == 0 and h % 16 == 0 and w >= 28 and h >= 28


def test_an_ffmpeg_failure_is_a_one_line_error_and_leaves_no_file(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.gui import dialogs
    from vaestudio.gui.explore.export_dialog import AnimationOptions

    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "/bin/false")  # an "ffmpeg" that exits at once
    shown = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, error, details="": shown.append(str(error)))
    path = tmp_path / "broken.mp4"
    answer_with(monkeypatch, AnimationOptions(path=str(path), frames=4, frame_ms=100), [])
    window.explore.export.actions["interpolation_animation"].trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
    assert shown[0].startswith("ffmpeg could not write broken.mp4") and "IMAGEIO_FFMPEG_EXE" in shown[0]
    assert "\n" not in shown[0]
    assert not path.exists()


def test_no_ffmpeg_program_names_the_fix(monkeypatch, tmp_path):
    import imageio_ffmpeg
    import numpy as np
    from vaestudio.core.animation import write_mp4
    from vaestudio.core.errors import VaeStudioError

    def missing():
        raise RuntimeError("No ffmpeg exe could be found.")
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", missing)
    with pytest.raises(VaeStudioError, match="no ffmpeg program: reinstall imageio-ffmpeg"):
        write_mp4(np.zeros((2, 1, 8, 8), np.float32), tmp_path / "a.mp4")
    assert not (tmp_path / "a.mp4").exists()


# ============================================================================ folders

def test_each_kind_of_export_reopens_in_its_last_folder_also_in_a_new_session(qtbot, window, tmp_path,
                                                                              monkeypatch):
    from vaestudio.core.run import Run
    from vaestudio.core.config import TrainConfig
    from vaestudio.gui import dialogs
    from vaestudio.gui.explore import export_dialog
    from vaestudio.gui.main_window import MainWindow
    from test_explore_support import tiny_model

    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir()
    b.mkdir()
    offered = {"image": [], "table": []}

    def png(target):
        return lambda parent, title, suggested: offered["image"].append(suggested) or target

    def table(target):
        return lambda parent, title, suggested, filter_=None: offered["table"].append(suggested) or target

    tools = window.explore
    monkeypatch.setattr(export_dialog, "choose_png_path", png(str(a / "scatter.png")))
    run_export(qtbot, tools, "scatter")
    monkeypatch.setattr(dialogs, "choose_save_file", table(str(b / "codes.csv")))
    run_export(qtbot, tools, "codes")
    assert (a / "scatter.png").exists() and (b / "codes.csv").exists()

    monkeypatch.setattr(export_dialog, "choose_png_path", png(""))  # asked, then cancelled
    monkeypatch.setattr(dialogs, "choose_save_file", table(""))
    assert not tools.export.export_lattice() and not tools.export.export_sites()
    assert offered["image"][-1].startswith(str(a)) and offered["table"][-1].startswith(str(b))
    asked = []
    answer_with(monkeypatch, None, asked)
    assert not tools.export.export_interpolation_animation()
    assert not asked[0][0].startswith(str(a)) and not asked[0][0].startswith(str(b))  # its own kind

    # the next session: a new window reading the same state folder
    w2 = MainWindow(autosave_enabled=False)
    qtbot.addWidget(w2)
    try:
        model = tiny_model()
        w2.session.set_run(Run(model.config, TrainConfig(device="cpu"), model))
        assert not w2.explore.export.export_samples()
        w2.session.run.history[:] = [{"epoch": 1, "dataset": 0, "train_loss": 1.0, "val_loss": 1.0, "seconds": 1}]
        assert not w2.explore.export.export_history()
        assert offered["image"][-1] == str(a / "prior-samples.png")
        assert offered["table"][-1] == str(b / "loss-history.csv")
    finally:
        w2.session.set_dirty(False)
        w2.explore.shutdown()


# ============================================================================ frames = steps

def test_the_animation_dialog_starts_from_the_panels_steps_and_says_how_they_relate(qtbot):
    from vaestudio.gui.explore.export_dialog import AnimationDialog

    dialog = AnimationDialog(None, "Export", "/tmp/a.gif", frames=12)
    qtbot.addWidget(dialog)
    assert dialog.frames.value() == 12
    assert dialog.frames_hint.text() == "The panel's 12 steps, one frame each."
    dialog.frames.setValue(40)
    assert "The panel has 12 steps; exporting sets it to 40" in dialog.frames_hint.text()
    assert dialog.options().frames == 40


def test_more_frames_than_the_panel_holds_is_said_in_the_status(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.gui.explore.export_dialog import AnimationOptions

    tools = window.explore
    path = tmp_path / "long.gif"
    answer_with(monkeypatch, AnimationOptions(path=str(path), frames=100, frame_ms=40), [])
    _, info = run_export(qtbot, tools, "interpolation_animation")
    top = tools.interpolation.steps.maximum()
    assert info.n_frames <= 100 and tools.interpolation.steps.value() == top
    with Image.open(path) as gif:
        assert gif.n_frames == info.n_frames
    assert f"the panel shows at most {top} steps" in window.statusBar().currentMessage()
