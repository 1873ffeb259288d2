"""The explorer's own pictures without the window: encoded like the split, re-encoded with each
snapshot, forgotten by a model of another shape, marked on the canvas, shown in the preview, and
chosen in the pickers."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from test_explore_support import explorer, session, tiny_model  # noqa: F401
from vaestudio.core.config import TrainConfig
from vaestudio.core.run import Run


def save_split_image(explorer, index: int, path):
    img = explorer.image(index)
    Image.fromarray(img[0], "L").save(path)
    return str(path)


def test_a_saved_split_image_lands_on_its_code_and_follows_new_snapshots(qtbot, explorer, tmp_path):
    own = explorer.own_images
    seen = []
    own.changed.connect(lambda: seen.append(len(own)))
    added, problems = own.add_files([save_split_image(explorer, 4, tmp_path / "four.png")])
    assert problems == [] and [a.name for a in added] == ["four.png"] and own.current == 0
    np.testing.assert_allclose(own.codes[0], explorer.encodings.codes[4], atol=1e-5)
    np.testing.assert_allclose(own.view_points()[0], explorer.points[4], atol=1e-4)
    assert seen == [1]

    model = explorer.model.cpu_copy()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.5)
    explorer.session.snapshot_changed.emit(model)  # as after an epoch
    qtbot.waitUntil(lambda: explorer.encodings is not None and not explorer.busy, timeout=10_000)
    qtbot.waitUntil(lambda: np.allclose(own.codes[0], explorer.encodings.codes[4], atol=1e-5), timeout=10_000)

    other = tiny_model(size=8)  # a model of 8x8 images cannot take the 12x12 picture
    explorer.session.set_run(Run(other.config, TrainConfig(device="cpu"), other))
    assert len(own) == 0 and own.codes is None and own.current == -1


def test_bad_files_are_reported_and_the_good_ones_kept(explorer, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nrubbish")
    good = save_split_image(explorer, 0, tmp_path / "zero.png")
    added, problems = explorer.own_images.add_files([str(tmp_path / "broken.png"), good])
    assert [a.name for a in added] == ["zero.png"]
    assert len(problems) == 1 and "broken.png" in problems[0]


def test_marks_preview_and_pickers_use_the_picture(qtbot, explorer, tmp_path):
    from vaestudio.gui.explore.canvas import LatentCanvas
    from vaestudio.gui.explore.image_view import to_hwc
    from vaestudio.gui.explore.interpolation import InterpolationPanel
    from vaestudio.gui.explore.preview import DecoderPreview

    canvas, preview, panel = LatentCanvas(explorer), DecoderPreview(explorer), InterpolationPanel(explorer)
    for w in (canvas, preview, panel):
        qtbot.addWidget(w)
        w.show()
    assert not preview.own_section.isVisible() and len(canvas.own_marks.positions()) == 0
    assert not panel.start.own_button.isEnabled()
    explorer.own_images.add_files([save_split_image(explorer, 2, tmp_path / "two.png"),
                                   save_split_image(explorer, 9, tmp_path / "nine.png")])
    codes = explorer.own_images.codes
    np.testing.assert_allclose(canvas.own_marks.positions(), explorer.projection.to_view(codes), atol=1e-5)
    assert [it.name for it in canvas.own_marks.thumbnail_images()] == ["two.png", "nine.png"]

    assert preview.own_section.isVisible() and "nine.png: all of 12x12" in preview.own_section.caption.text()
    np.testing.assert_array_equal(preview.own_section.input_view.array[..., 0], explorer.image(9)[0])
    np.testing.assert_array_equal(preview.own_section.output_view.array, to_hwc(explorer.decode(codes[1])))
    assert not preview.own_section.file_view.crop_rect().isEmpty()

    actions = panel.end.own_menu.actions()
    assert [a.text() for a in actions] == ["two.png", "nine.png"]
    actions[0].trigger()
    panel.start.use_own(1)
    np.testing.assert_allclose(panel.path_latents(3)[[0, -1]], codes[[1, 0]])
    assert "nine.png → two.png" in panel.caption.text()
    assert panel.end.thumb.array is not None and "your picture" in panel.end.caption.text()

    preview.own_section.forget_button.click()
    assert len(canvas.own_marks.positions()) == 0 and not preview.own_section.isVisible()
    assert panel.start.own is None and np.allclose(panel.path_latents(2)[0], explorer.encodings.codes[0])
