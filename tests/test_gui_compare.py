"""View > Compare Runs, offscreen: choosing runs, the columns, shared sites, hover across columns."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from vaestudio.core.config import TrainConfig  # noqa: E402
from vaestudio.core.data.registry import open_dataset  # noqa: E402
from vaestudio.core.kinds import make_model_config  # noqa: E402
from vaestudio.core.latent import decode_batch  # noqa: E402
from vaestudio.core.run import Run  # noqa: E402
from vaestudio.core.training import Trainer  # noqa: E402
from vaestudio.gui import dialogs  # noqa: E402
from vaestudio.gui.main_window import MainWindow  # noqa: E402
from vaestudio.gui.settings import STATE_ENV  # noqa: E402

WAIT_MS = 90_000


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 2-D AE, a 2-D VAE and a 3-D VAE, one epoch each on small digits, saved as files."""
    ds = open_dataset("digits", n_train=600, n_test=60)
    folder = tmp_path_factory.mktemp("runs")
    paths = {}
    for name, kind, dim in (("ae", "ae", 2), ("vae", "vae", 2), ("vae3", "vae", 3)):
        run = Run.new(make_model_config(kind=kind, latent_dim=dim, hidden=(32,)), TrainConfig(epochs=1, batch_size=100))
        run.use_dataset(ds)
        Trainer(run, ds).train()
        paths[name] = str(run.save(folder / name / "model.pt"))
    return paths


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, cache):
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def compared(qtbot, cw):
    cw.compare_button.click()
    qtbot.waitUntil(lambda: cw.task is None, timeout=WAIT_MS)
    assert cw.last_error == ""
    return cw.columns


def test_compare_an_ae_and_a_vae_column_by_column(qtbot, window, runs):
    cw = window.show_compare()  # View > Compare Runs; no model in the window yet
    assert cw.isVisible() and cw.entries == [] and not cw.compare_button.isEnabled()
    assert cw.add_file(runs["ae"]) and not cw.compare_button.isEnabled()  # two at least
    assert not cw.add_file(runs["ae"])  # the same file twice is not a comparison
    assert cw.add_file(runs["vae"]) and cw.compare_button.isEnabled()
    cols = compared(qtbot, cw)
    assert [c.run.kind.name for c in cols] == ["ae", "vae"]
    # one column per run, the same test images in each
    for i in range(2):
        for name in ("compareScatter", "compareHover", "compareLattice", "compareRecon"):
            assert cw.findChild(QWidget, f"{name}{i}") is not None
    assert np.array_equal(cols[0].originals, cols[1].originals)
    assert cw.findChild(QWidget, "comparePrior0") is None and cw.findChild(QWidget, "comparePrior1") is not None
    # the metrics table: one column per run, "n/a" where the kind has no such number
    table = cw.table
    rows = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    assert table.columnCount() == 2 and table.item(rows.index("Kind"), 0).text() == "ae"
    assert table.item(rows.index("Test -ELBO (nats)"), 0).text() == "n/a"
    assert table.item(rows.index("Test -ELBO (nats)"), 1).text() == f"{cols[1].metrics['neg_elbo']:.2f}"
    assert len(cw.loss_plot.getPlotItem().listDataItems()) == 2  # the loss curves, overlaid
    # hovering the AE's scatter decodes the same latent point in both runs
    plot = cw.scatters[0]
    centre = np.asarray(cols[0].circle.centre, dtype=float)
    cw.scroll.ensureWidgetVisible(plot)
    vb = plot.getPlotItem().vb

    def centre_in_view():
        (x0, x1), (y0, y1) = vb.viewRange()
        return vb.width() > 50 and x0 < centre[0] < x1 and y0 < centre[1] < y1

    qtbot.waitUntil(centre_in_view, timeout=WAIT_MS)
    scene = plot.getPlotItem().vb.mapViewToScene(QPointF(*centre[:2]))
    plot.scene().sigMouseMoved.emit(scene)
    assert cw.hover_z is not None and np.allclose(cw.hover_z, centre, atol=1e-3 * (1 + abs(centre).max()))
    for col, view in zip(cols, cw.hover_views):
        want = (np.clip(decode_batch(col.run.model, cw.hover_z[None])[0], 0, 1) * 255).round()
        assert view.array is not None
        assert np.abs(view.array[..., 0].astype(float) - want[0]).max() <= 1


def test_shared_sites_and_runs_of_another_latent_dimension(qtbot, window, runs):
    cw = window.show_compare()
    for key in ("ae", "vae", "vae3"):
        cw.add_file(runs[key])
    own = compared(qtbot, cw)
    assert not np.allclose(own[0].lattice.points, own[1].lattice.points)  # each run's own circle
    cw.sites.setCurrentIndex(cw.sites.findData("shared"))
    shared = compared(qtbot, cw)
    assert np.allclose(shared[0].lattice.points, shared[1].lattice.points)
    assert np.allclose(shared[0].lattice.points, shared[2].lattice.points)
    cw.hover_at(1, (0.0, 0.0))  # a 2-D point: the 3-D run cannot decode it
    assert cw.hover_views[0].array is not None and cw.hover_views[1].array is not None
    assert cw.hover_views[2].array is None and "latent dimension 3" in cw.hover_views[2].placeholder


def test_the_current_model_joins_and_a_bad_file_is_named_in_a_dialog(qtbot, window, runs, tmp_path):
    w = window
    w.session.set_run(Run.load(runs["vae"]))
    cw = w.show_compare()
    assert len(cw.entries) == 1 and "current" in cw.entries[0].label  # opened with the current model
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    cw.add_file(str(bad))
    cw.compare_button.click()
    qtbot.waitUntil(lambda: cw.task is None, timeout=WAIT_MS)
    assert "broken.pt" in cw.last_error and cw.columns == []
    cw.run_list.setCurrentRow(1)
    cw.remove_selected()
    cw.add_file(runs["ae"])
    cols = compared(qtbot, cw)
    assert [c.run.kind.name for c in cols] == ["vae", "ae"]
