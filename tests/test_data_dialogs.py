"""The "data set not found" question: one dialog naming where the files were looked for,
Choose Folder / Download (only when it can work) / Cancel, no command-line flags, and a failed
download is one error with its reason, never the same question again."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from helpers import write_mnist_folder  # noqa: E402
from vaestudio.core.data import download as download_module  # noqa: E402
from vaestudio.core.errors import DataNotFoundError  # noqa: E402
from vaestudio.gui import dataset_loader, dialogs  # noqa: E402
from vaestudio.gui.main_window import MainWindow  # noqa: E402
from vaestudio.gui.settings import STATE_ENV  # noqa: E402

WAIT_MS = 30000


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, error, *a: errors.append((title, str(error))))
    w = MainWindow()
    w.dataset_options = {"digits": {"n_train": 200, "n_test": 20}}
    w.errors = errors
    qtbot.addWidget(w)
    w.show()
    yield w
    w.session.set_dirty(False)
    w.close()


@pytest.fixture
def asked(monkeypatch):
    """Every ask_dataset_missing call; answers["answer"] is what it returns."""
    calls = []
    state = {"answer": "cancel", "calls": calls}

    def ask(parent, name, looked_in, can_download, needed="", why_not=""):
        calls.append({"name": name, "looked_in": list(looked_in), "can_download": can_download,
                      "needed": needed, "why_not": why_not})
        return state["answer"]
    monkeypatch.setattr(dialogs, "ask_dataset_missing", ask)
    return state


def offline(monkeypatch):
    checked = []
    monkeypatch.setattr(dataset_loader, "download_reachable",
                        lambda url, *a, **k: checked.append(url) or (False, "example.org cannot be reached (offline)"))
    return checked


def open_mnist_from(qtbot, w, folder):
    w.settings.set_last_folder("mnist", folder)
    w.dataset_actions["mnist"].trigger()


def test_offline_missing_mnist_asks_once_with_the_paths_and_cancel_keeps_data(qtbot, window, asked, monkeypatch,
                                                                                tmp_path):
    w = window
    w.dataset_actions["digits"].trigger()
    qtbot.waitUntil(lambda: w.session.dataset is not None, timeout=WAIT_MS)
    digits = w.session.dataset
    checked = offline(monkeypatch)
    monkeypatch.setattr(dialogs, "choose_folder", lambda *a: pytest.fail("Cancel must not choose a folder"))
    missing = tmp_path / "nowhere"
    open_mnist_from(qtbot, w, missing)
    qtbot.waitUntil(lambda: len(asked["calls"]) == 1, timeout=WAIT_MS)
    qtbot.wait(300)
    assert len(asked["calls"]) == 1 and checked  # asked once, after a connection check
    call = asked["calls"][0]
    assert call["name"] == "MNIST" and call["can_download"] is False and "offline" in call["why_not"]
    assert str(missing / "MNIST" / "raw") in call["looked_in"] and str(missing) in call["looked_in"]
    assert "train-images-idx3-ubyte" in call["needed"]
    assert w.session.dataset is digits and not w.errors  # Cancel: nothing changed, nothing more asked


def test_choose_folder_opens_mnist_there(qtbot, window, asked, monkeypatch, tmp_path):
    w = window
    offline(monkeypatch)
    good = tmp_path / "data"
    write_mnist_folder(good, n_train=120, n_test=20)
    monkeypatch.setattr(dialogs, "choose_folder", lambda *a: str(good))
    asked["answer"] = "choose"
    open_mnist_from(qtbot, w, tmp_path / "empty")
    qtbot.waitUntil(lambda: w.session.dataset is not None, timeout=WAIT_MS)
    assert w.session.dataset.name == "mnist" and w.session.dataset.spec.root == str(good)
    assert len(asked["calls"]) == 1 and not w.errors


def test_failed_download_is_one_error_with_a_reason_and_no_second_question(qtbot, window, asked, monkeypatch,
                                                                            tmp_path):
    w = window
    monkeypatch.setattr(dataset_loader, "download_reachable", lambda *a, **k: (True, ""))
    tries = []

    def failing(class_name, root, **kw):
        tries.append(class_name)
        raise DataNotFoundError(root, f"downloading {class_name} through torchvision failed (Connection reset)")
    monkeypatch.setattr("vaestudio.core.data.mnist.download_with_torchvision", failing)
    asked["answer"] = "download"
    open_mnist_from(qtbot, w, tmp_path / "empty")
    qtbot.waitUntil(lambda: len(w.errors) == 1, timeout=WAIT_MS)
    qtbot.wait(300)
    assert tries == ["MNIST"] and len(asked["calls"]) == 1 and asked["calls"][0]["can_download"] is True
    title, message = w.errors[0]
    assert "could not be downloaded" in message and "Connection reset" in message
    assert "--" not in message and w.session.dataset is None


def test_download_with_an_empty_reason_still_says_something(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    class Silent:
        def __init__(self, *a, **k):
            raise RuntimeError("")
    monkeypatch.setattr(tvd, "MNIST", Silent)
    with pytest.raises(DataNotFoundError) as e:
        download_module.download_with_torchvision("MNIST", tmp_path)
    assert "failed (RuntimeError)" in str(e.value)


def test_the_real_dialog_texts_and_buttons(qtbot):
    looked = ["/data/MNIST/raw", "/data/raw", "/data"]
    box, buttons = dialogs.dataset_missing_box(None, "MNIST", looked, True, "train-images-idx3-ubyte, ...")
    qtbot.addWidget(box)
    text = box.text()
    assert all(p in text for p in looked) and "MNIST" in box.windowTitle()
    assert "--" not in text and "pass" not in text
    assert [b.text() for b in box.buttons() if b is buttons["choose"]] == ["Choose Folder..."]
    assert buttons["download"].text() == "Download" and set(buttons) == {"choose", "download", "cancel"}

    box2, buttons2 = dialogs.dataset_missing_box(None, "MNIST", looked, False, "", "example.org cannot be reached")
    qtbot.addWidget(box2)
    assert set(buttons2) == {"choose", "cancel"} and "Download" not in [b.text() for b in box2.buttons()]
    assert "example.org cannot be reached" in box2.text()


@pytest.mark.parametrize("which", ["choose", "download", "cancel"])
def test_ask_dataset_missing_returns_the_button_clicked(qtbot, which):
    def click():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        target = {"choose": "Choose Folder...", "download": "Download"}.get(which)
        for b in box.buttons():
            is_cancel = box.buttonRole(b) == QMessageBox.ButtonRole.RejectRole
            if (target and b.text() == target) or (not target and is_cancel):
                b.click()
                return
        pytest.fail(f"no button for {which}")
    QTimer.singleShot(100, click)
    assert dialogs.ask_dataset_missing(None, "MNIST", ["/x"], True) == which


def test_download_reachable_is_bounded_and_says_why(monkeypatch):
    import socket

    def refuse(*a, **k):
        raise OSError(111, "Connection refused")
    monkeypatch.setattr(socket, "create_connection", refuse)
    ok, why = dataset_loader.download_reachable("https://example.org/mnist/")
    assert not ok and "example.org" in why and "Connection refused" in why
    assert dataset_loader.download_reachable("") == (False, "the download address is unknown")

    class Conn:
        def close(self):
            pass

    def hang(*a, **k):
        import time
        time.sleep(1)
        return Conn()
    monkeypatch.setattr(socket, "create_connection", hang)
    import time
    t0 = time.monotonic()
    ok, why = dataset_loader.download_reachable("https://example.org/", timeout=0.2)
    assert not ok and "did not answer" in why and time.monotonic() - t0 < 2
    assert dataset_loader.download_url("mnist").startswith("http")
    assert "nist.gov" in dataset_loader.download_url("emnist")  # not MNIST's inherited mirrors


def test_folder_with_an_unreadable_file_opens_and_says_so_in_the_status_bar(qtbot, window, monkeypatch, tmp_path):
    import numpy as np
    from PIL import Image

    root = tmp_path / "pics"
    root.mkdir()
    for k in range(5):
        Image.fromarray(np.full((12, 12, 3), 40 * k, np.uint8)).save(root / f"{k}.png")
    (root / "notes.png").write_text("not a picture")
    monkeypatch.setattr(dialogs, "choose_folder", lambda *a: str(root))
    window.dataset_actions["folder"].trigger()
    qtbot.waitUntil(lambda: window.session.dataset is not None, timeout=WAIT_MS)
    message = window.statusBar().currentMessage()
    assert "skipped 1 of 6 image files" in message and "notes.png" in message and not window.errors
