"""Texts that explain themselves: singular epochs, the samples page's placeholder, the same
train/validation counts while loading and in the status bar, presets naming their data set and
the blog post they follow."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from vaestudio.gui import dialogs  # noqa: E402
from vaestudio.gui.main_window import MainWindow  # noqa: E402
from vaestudio.gui.settings import STATE_ENV  # noqa: E402

WAIT_MS = 30000


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
    w = MainWindow()
    w.dataset_options = {"digits": {"n_train": 1200, "n_test": 100}}
    qtbot.addWidget(w)
    w.show()
    yield w
    w.session.set_dirty(False)
    w.close()


def test_loading_and_status_bar_count_the_same_images(qtbot, window, tmp_path, monkeypatch):
    from vaestudio.core.data.digits import open_digits

    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache2"))
    said = []
    open_digits(n_train=1200, n_test=100, progress=lambda d, t, m: said.append(m))
    assert "drawing 1,200 training and validation digits" in said and "drawing 100 test digits" in said
    window.dataset_actions["digits"].trigger()
    qtbot.waitUntil(lambda: window.session.dataset is not None, timeout=WAIT_MS)
    assert "1,000 training + 200 validation images" in window.dataset_label.text()


def test_opened_model_says_epoch_in_the_singular(qtbot, window, tmp_path):
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.run import Run

    run = Run.new(make_model_config(kind="vae", arch="mlp", image_shape=(1, 28, 28), latent_dim=2, hidden=(8,)),
                  TrainConfig(epochs=1, batch_size=20, device="cpu"))
    path = run.save(tmp_path / "one" / "model.pt")
    assert window.open_model(path)
    assert window.training_dock.status.text() == "Opened: 0 of 1 epoch trained"
    run2 = Run.new(run.model_config, TrainConfig(epochs=3, batch_size=20, device="cpu"))
    path2 = run2.save(tmp_path / "three" / "model.pt")
    assert window.open_model(path2)
    assert window.training_dock.status.text() == "Opened: 0 of 3 epochs trained"


def test_prior_samples_placeholder_speaks_of_samples(qtbot, window):
    from vaestudio.gui.explore.lattice_view import LatticePanel

    panel = window.findChild(LatticePanel)
    if panel is None:
        pytest.skip("the explore tools are not installed")
    panel.tabs.setCurrentIndex(0)
    assert "lattice" in panel.grid_view.placeholder
    panel.tabs.setCurrentIndex(1)
    assert "samples" in panel.grid_view.placeholder and "lattice" not in panel.grid_view.placeholder


def test_presets_name_their_data_set_and_source():
    from vaestudio.core.config import presets
    from vaestudio.gui.model_form import _made_for

    by_name = {p.name: p for p in presets()}
    celeba = _made_for(by_name["CelebA conv VAE, 64x64"])
    assert "CelebA" in celeba and "built-in Cartoon faces" in celeba and "'faces'" not in celeba
    assert _made_for(by_name["Faces DFC-VAE (conv, 64x64)"]) == "Made for the built-in Cartoon faces data set."
    assert "MNIST" in _made_for(by_name["MNIST MLP VAE, 2-D latent"])
    for p in presets():
        if "blog" in p.description:
            assert "blog post" in p.description and "as in the blog" not in p.description
