"""The latent tools inside the main window: where install() puts them, and the exports (a GIF
with the requested frames, PNGs) run through the Export menu in a worker."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from test_explore_support import explore_window


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    yield from explore_window(qtbot, tmp_path, monkeypatch)


def test_install_places_the_tools(window):
    from vaestudio.gui.explore.canvas import LatentCanvas

    tools = window.explore
    assert isinstance(window.central_tabs.widget(0), LatentCanvas)
    assert window.central_tabs.tabText(0) == "Latent space"
    assert set(tools.docks) == {"preview", "lattice", "mixer", "interpolation"}
    toggles = {a.text() for a in window.view_menu.actions()}
    assert {"Decoder", "Lattice", "Attribute Mixer", "Interpolation"} <= toggles
    names = [a.objectName() for a in window.export_menu.actions()]
    assert {"export_scatter", "export_lattice", "export_interpolation_animation", "export_sweep_animation"} <= set(names)
    assert tools.export.actions["scatter"].isEnabled()
    assert tools.lattice.on_screen and not tools.interpolation.on_screen  # the lattice tab is raised
    assert tools.explorer.lattice_overlay is not None and tools.explorer.path_overlay is None


def test_export_menu_writes_a_gif_with_the_requested_frames(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.gui.explore import export_dialog

    tools = window.explore
    tools.interpolation.start.set_index(0)
    tools.interpolation.end.set_index(9)
    path = tmp_path / "path.gif"
    asked = []

    def answer(parent, title, suggested, frames=24, scale=1):
        asked.append(suggested)
        return export_dialog.AnimationOptions(path=str(path), frames=7, frame_ms=80, loop=2, scale=2)

    monkeypatch.setattr(export_dialog, "ask_animation_options", answer)
    with qtbot.waitSignal(tools.export.exported, timeout=10_000) as blocker:
        tools.export.actions["interpolation_animation"].trigger()
    assert asked and asked[0].endswith(".gif")
    written, info = blocker.args
    assert written == str(path) and info.n_frames == 7 and info.frame_ms == 80 and info.loop == 2
    with Image.open(path) as gif:
        assert gif.n_frames == 7
        assert gif.info["loop"] == 2 and gif.info["duration"] == 80
        assert gif.size == (24, 24)  # 12x12 decodes enlarged twice
    assert "Exported" in window.statusBar().currentMessage()


def test_png_exports_of_scatter_lattice_and_sweep(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.gui.explore import export_dialog

    tools = window.explore
    tools.lattice.n_spin.setValue(4)
    targets = iter([tmp_path / "scatter.png", tmp_path / "lattice.png"])
    monkeypatch.setattr(export_dialog, "choose_png_path", lambda *a: str(next(targets)))
    for key in ("scatter", "lattice"):
        with qtbot.waitSignal(tools.export.exported, timeout=10_000):
            tools.export.actions[key].trigger()
        qtbot.waitUntil(lambda: not tools.export.busy, timeout=5000)  # one export at a time
    with Image.open(tmp_path / "scatter.png") as img:
        assert img.size == (720, 720)
    with Image.open(tmp_path / "lattice.png") as img:
        scale = 4  # 12-pixel decodes enlarged to at least 48
        assert img.size == (4 * 12 * scale + 5, 4 * 12 * scale + 5)
    tools.mixer.set_chosen("TR")
    with qtbot.waitSignal(tools.export.exported, timeout=10_000):
        assert tools.export.export_sweep_strip(str(tmp_path / "sweep.png"))
    assert np.asarray(Image.open(tmp_path / "sweep.png")).shape[1] > 8 * 12
