"""The Help menu's user guide, keyboard shortcuts and getting started, and the explanations of
negative Gaussian losses: bits/dim in the training dock and tooltips on the loss plots and the
Likelihood control."""
from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QAction, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QMenu  # noqa: E402

import vaestudio  # noqa: E402
from test_gui_window import WAIT_MS, answers, state_dir, window  # noqa: E402,F401
from vaestudio.core.config import TrainConfig  # noqa: E402
from vaestudio.core.kinds import make_model_config  # noqa: E402
from vaestudio.core.run import Run  # noqa: E402
from vaestudio.core.units import bits_per_dim  # noqa: E402
from vaestudio.gui.help_dialogs import STARTER_PRESET, GettingStartedDialog, GuideDialog, guide_path  # noqa: E402
from vaestudio.gui.loss_plot import LossPlot  # noqa: E402
from vaestudio.gui.model_form import ModelSettingsForm  # noqa: E402
from vaestudio.gui.training_dock import TrainingDock  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def native(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def plain(text: str) -> str:
    return text.replace("&", "")


def test_help_menu_holds_the_guide_shortcuts_and_getting_started(window):
    w = window
    texts = [plain(a.text()) for a in w.help_menu.actions() if not a.isSeparator()]
    assert texts[:3] == ["User Guide", "Getting Started", "Keyboard Shortcuts"]
    assert {"About This Model", "About VAE Studio", "About Qt"} <= set(texts)
    assert w.guide_action.shortcut().toString() == "F1"


def test_user_guide_is_read_from_the_installed_package(window, qtbot):
    path = guide_path()
    assert path.is_file() and path.parent == Path(vaestudio.__file__).parent / "gui" / "resources"
    if sys.version_info >= (3, 11):  # the package data pattern installs it
        import tomllib

        patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
        inside = path.relative_to(Path(vaestudio.__file__).parent).as_posix()
        assert any(fnmatch.fnmatch(inside, p) for p in patterns["vaestudio"])
    # docs/guide.md is the same text, for readers of the repository
    assert (REPO / "docs" / "guide.md").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")

    window.guide_action.trigger()
    box = window.findChild(GuideDialog, "userGuideDialog")
    qtbot.waitUntil(lambda: box.isVisible(), timeout=2000)
    shown = box.browser.toPlainText()
    for title in ("Training dock", "Loss plots", "Latent canvas", "Attribute mixer", "Compare runs",
                  "Measure Blur", "Reading the numbers", "Negative losses", "Without the window"):
        assert title in shown
    assert "#" not in shown.splitlines()[0]  # rendered as markdown, not shown as source


def test_shortcuts_dialog_lists_every_action_with_a_shortcut(window):
    w = window
    box = w.show_shortcuts()
    table = box.table
    rows = [tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())]
    by_keys = {keys: (what, where) for keys, what, where in rows}
    assert by_keys[native("Ctrl+R")] == (plain(w.start_action.text()), "Train")
    assert by_keys[native("Ctrl+I")] == ("About This Model", "Help")
    assert by_keys[native("F1")] == ("User Guide", "Help")
    assert by_keys[native("Ctrl+Shift+C")][1] == "View"
    # every menu action that has a shortcut, including those the latent tools add (Ctrl+E)
    menus = w.menuBar().findChildren(QMenu)
    with_keys = {(plain(a.text()), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                 for m in menus for a in m.actions() if not a.shortcut().isEmpty() and a.menu() is None}
    assert len(with_keys) >= 8 and native("Ctrl+E") in {k for _, k in with_keys}
    assert with_keys <= {(what, keys) for keys, what, _ in rows}
    # generated: a shortcut given later shows up the next time the dialog opens
    extra = QAction("Pretend Tool", w)
    extra.setShortcut(QKeySequence("Ctrl+Alt+J"))
    w.addAction(extra)
    again = w.show_shortcuts()
    assert any(again.table.item(r, 1).text() == "Pretend Tool" and again.table.item(r, 0).text() == native("Ctrl+Alt+J")
               for r in range(again.table.rowCount()))
    assert any(r[2] == "Enlarged lattice" for r in rows)  # keys of views, not actions
    # a panel's own action (the canvas has one) is listed under the panel's dock or tab
    panel = QAction("Pretend Panel Key", w.training_dock.form)
    panel.setShortcut(QKeySequence("Ctrl+Alt+K"))
    w.training_dock.form.addAction(panel)
    table = w.show_shortcuts().table
    rows = [tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())]
    assert (native("Ctrl+Alt+K"), "Pretend Panel Key", "Training") in rows


def test_getting_started_lists_its_steps_and_sets_up_the_first(window, qtbot):
    w = window
    w.getting_started_action.trigger()
    box = w.findChild(GettingStartedDialog, "gettingStartedDialog")
    html = box.steps.text()
    assert len(re.findall(r"<li>", html)) == 4
    for step in ("Train", "Hover", "Mix", "Export"):
        assert f"<b>{step}.</b>" in html
    form = w.training_dock.form
    form.latent_dim.setValue(7)
    assert box.setup_button.isEnabled() and box.set_up_first_step()
    qtbot.waitUntil(lambda: w.session.dataset is not None, timeout=WAIT_MS)
    assert w.session.dataset.spec.name == "digits"
    assert form.preset.currentText() == STARTER_PRESET and form.latent_dim.value() == 2


def _record(kind_terms: dict, epoch: int = 1) -> dict:
    rec = {"epoch": epoch, "seconds": 1.5}
    rec.update({f"train_{k}": v for k, v in kind_terms.items()})
    rec.update({f"val_{k}": v + 1.0 for k, v in kind_terms.items()})
    return rec


def test_training_dock_gives_bits_per_dim_for_gaussian_runs_only(qtbot):
    actions = [QAction(t) for t in ("Start", "Pause", "Stop")]
    dock = TrainingDock(*actions)
    qtbot.addWidget(dock)
    gauss = make_model_config(kind="vae", image_shape=(3, 8, 8), hidden=(8,), likelihood="gaussian")
    record = _record({"loss": -300.0, "recon": -320.0, "kl": 20.0})
    dock.show_epoch(record, gauss)
    text = dock.status.text()
    expected = bits_per_dim(-319.0 + 21.0, 3 * 8 * 8)
    assert "nats per image" in text and f"≈ {expected:.2f} bits/dim" in text and "validation −ELBO" in text
    bern = make_model_config(kind="vae", image_shape=(1, 8, 8), hidden=(8,))
    dock.show_epoch(_record({"loss": 90.0, "recon": 80.0, "kl": 10.0}), bern)
    assert "bits/dim" not in dock.status.text() and "nats per image" in dock.status.text()


def test_likelihood_control_explains_negative_gaussian_losses(qtbot):
    form = ModelSettingsForm()
    qtbot.addWidget(form)
    tip = form.likelihood.toolTip()
    assert "Bernoulli" in tip and "negative" in tip and "bits per dimension" in tip


def test_loss_plot_tooltips_explain_gaussian_nats(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    gauss = Run.new(make_model_config(kind="vae", image_shape=(3, 8, 8), hidden=(8,), likelihood="gaussian"),
                    TrainConfig(epochs=2))
    plot.set_run(gauss)
    assert all("negative" in p.toolTip() and "not comparable" in p.toolTip() for p in plot.plots.values())
    assert "bits/dim" not in plot.plots["loss"].toolTip()  # no epoch yet
    gauss.history.append(_record({"loss": -300.0, "recon": -320.0, "kl": 20.0}))
    plot.schedule()
    expected = f"{bits_per_dim(-298.0, 192):.2f} bits/dim"
    qtbot.waitUntil(lambda: expected in plot.plots["recon"].toolTip(), timeout=2000)
    assert "Epoch 1: validation −ELBO" in plot.plots["loss"].toolTip()
    bern = Run.new(make_model_config(kind="vae", image_shape=(1, 8, 8), hidden=(8,)), TrainConfig(epochs=2))
    bern.history.append(_record({"loss": 90.0, "recon": 80.0, "kl": 10.0}))
    plot.set_run(bern)
    tip = plot.plots["recon"].toolTip()
    assert tip.startswith("Reconstruction") and "negative" not in tip and "bits/dim" not in tip
