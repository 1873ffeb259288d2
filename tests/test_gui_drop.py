"""Bring your own image in the window: real drag-and-drop events carrying file URLs, and File >
Encode Images...; the picture is marked on the canvas, reconstructed in the decoder preview and
offered to the mixer and the interpolation; other drops are refused, bad files are dialogs."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from test_gui_window import WAIT_MS, answers, load_digits, state_dir, tiny_model, window  # noqa: E402,F401
from vaestudio.gui import dialogs  # noqa: E402
from vaestudio.gui.explore.image_view import to_hwc  # noqa: E402


def file_mime(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_and_drop(target, mime: QMimeData) -> bool:
    """A drag entering `target`, then the drop if the enter was accepted (as Qt does); True: dropped."""
    pos = QPoint(target.width() // 2, target.height() // 2)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def close_error_boxes(w) -> None:
    for box in w.findChildren(QMessageBox):
        box.close()


def trained(qtbot, w):
    """One epoch on the small digits, then the explorer settled on the final snapshot."""
    load_digits(qtbot, w)
    tiny_model(w, epochs=1)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.session.state == "idle" and w.session.run is not None
                    and w.session.run.epochs_done >= 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: w.explore.idle() and w.explore.explorer.ready, timeout=WAIT_MS)
    return w.explore.explorer


def test_a_dropped_picture_is_marked_previewed_and_usable_as_base_and_endpoint(qtbot, window, tmp_path,
                                                                               monkeypatch):
    w = window
    e = trained(qtbot, w)
    tools, own = w.explore, e.own_images
    path = tmp_path / "five.png"
    Image.fromarray(e.image(5)[0], "L").save(path)  # a validation image, saved at the model's size

    assert drag_and_drop(w, file_mime(path))
    assert [it.name for it in own.items] == ["five.png"] and w.last_error is None
    code = own.codes[0]
    np.testing.assert_allclose(code, e.encodings.codes[5], atol=1e-5)  # where the split puts it
    # marked on the canvas, with its thumbnail, at the code's place in the view
    np.testing.assert_allclose(tools.canvas.own_marks.positions(), e.points[[5]], atol=1e-4)
    assert [it.name for it in tools.canvas.own_marks.thumbnail_images()] == ["five.png"]
    # reconstructed in the decoder preview, beside what the model was given
    section = tools.preview.own_section
    assert section.isVisible() and "five.png: all of 28x28" in section.caption.text()
    np.testing.assert_array_equal(section.input_view.array[..., 0], e.image(5)[0])
    np.testing.assert_array_equal(section.output_view.array, to_hwc(e.decode(code)))
    # the base of the mixer (from its "Yours" menu) and an end of the interpolation
    mixer = tools.mixer
    [choice] = mixer.base.own_menu.actions()
    choice.trigger()
    np.testing.assert_allclose(mixer.base.latent(), code)
    np.testing.assert_array_equal(mixer.result_view.array, to_hwc(e.decode(code)))
    tools.interpolation.end.use_own(0)
    np.testing.assert_allclose(tools.interpolation.path_latents(3)[-1], code)
    assert "five.png" in tools.interpolation.caption.text()

    # a wide colour photo dropped on the canvas itself (a graphics view that takes drops)
    wide = np.zeros((60, 90, 3), np.uint8)
    wide[:, 15:75] = 180
    Image.fromarray(wide).save(tmp_path / "wide.jpg", quality=95)
    assert drag_and_drop(tools.canvas.plot.viewport(), file_mime(tmp_path / "wide.jpg"))
    assert len(own) == 2 and own.current == 1 and own.items[1].crop == (15, 0, 75, 60)
    assert "the centre 60x60 of 90x60" in section.caption.text()
    assert len(tools.canvas.own_marks.positions()) == 2

    # File > Encode Images... (Ctrl+E): the chooser's files are encoded the same way
    assert tools.own_input.action in w.file_menu.actions()
    assert tools.own_input.action.shortcut().toString() == "Ctrl+E"
    monkeypatch.setattr(dialogs, "choose_image_files", lambda *a: [str(path)])
    tools.own_input.action.trigger()
    assert len(own) == 3 and own.items[2].name == "five.png"

    # an unreadable picture: one dialog naming it, the window goes on with what it had
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    assert drag_and_drop(w, file_mime(tmp_path / "broken.png"))
    assert "broken.png" in w.last_error and len(own) == 3
    close_error_boxes(w)
    e.hover_at(e.points[0])
    assert tools.preview.hover_view.array is not None

    # a new model forgets the pictures, and the pickers go back to the split's images
    w.session.set_run(None)
    assert len(own) == 0 and mixer.base.own is None and len(tools.canvas.own_marks.positions()) == 0


def test_other_drops_are_refused_and_a_drop_without_a_model_is_a_dialog(qtbot, window, tmp_path):
    w = window
    text = QMimeData()
    text.setText("just words")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    assert not drag_and_drop(w, text)
    assert not drag_and_drop(w, file_mime(notes))
    assert not drag_and_drop(w.explore.canvas.plot.viewport(), file_mime(notes))
    assert w.last_error is None

    pic = tmp_path / "pic.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(pic)
    assert not w.explore.own_input.action.isEnabled()  # nothing to encode with yet
    assert drag_and_drop(w, file_mime(pic, notes))
    assert "train or open one first" in w.last_error
    assert len(w.explore.explorer.own_images) == 0
