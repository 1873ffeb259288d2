"""The lattice panel decodes an n x n lattice (and n x n prior samples) and shows its sites on
the canvas only while it is on screen."""
from __future__ import annotations

import numpy as np
import pytest

from test_explore_support import explorer, session  # noqa: F401
from vaestudio.core.latent import decode_batch, latent_lattice


@pytest.fixture
def panel(qtbot, explorer):
    from vaestudio.gui.explore.lattice_view import LatticePanel

    p = LatticePanel(explorer)
    qtbot.addWidget(p)
    p.resize(400, 500)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_the_lattice_grid_has_n_by_n_tiles_of_the_lattice_decodes(qtbot, panel):
    e = panel.explorer
    panel.n_spin.setValue(5)
    qtbot.waitUntil(lambda: panel.images["lattice"] is not None and len(panel.images["lattice"]) == 25,
                    timeout=5000)
    expected = latent_lattice(e.encodings.codes, 5, e.projection, e.coverage)
    assert np.allclose(panel.lattice.latents, expected.latents)
    assert np.allclose(panel.images["lattice"], decode_batch(e.model, expected.latents), atol=1e-6)
    h, w = e.model.config.image_shape[1:]
    assert panel.grid_view.array.shape == (5 * h + 6, 5 * w + 6, 3)  # 1-pixel padding
    assert e.lattice_overlay is panel.lattice and len(e.lattice_overlay.points) == 25
    assert "5×5 lattice" in panel.caption.text()


def test_prior_samples_page_and_resample(qtbot, panel):
    panel.n_spin.setValue(4)
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.images["samples"] is not None and len(panel.images["samples"]) == 16,
                    timeout=5000)
    first = panel.images["samples"].copy()
    assert panel.resample_button.isVisible()
    panel.resample()
    qtbot.waitUntil(lambda: not np.array_equal(panel.images["samples"], first), timeout=5000)


def test_sites_leave_the_canvas_when_the_panel_is_hidden(qtbot, panel):
    e = panel.explorer
    qtbot.waitUntil(lambda: e.lattice_overlay is not None, timeout=2000)
    panel.set_on_screen(False)  # its dock went behind another tab
    assert e.lattice_overlay is None
    panel.set_on_screen(True)
    assert e.lattice_overlay is panel.lattice
    panel.hide()
    assert e.lattice_overlay is None
