"""Lattice control: extent (inscribed, circumscribed, explicit bounds), centre (mean, origin, a
point), circle (the view's or the D-sphere's), the sites CSV, the CLI options and their
one-line refusals, and the lattice dock's controls and zoomable grid in the window."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from helpers import one_line, run_cli, train_tiny_run
from test_explore_support import finish, make_explorer, make_session, tiny_model
from vaestudio.core.errors import VaeStudioError
from vaestudio.core.latent import (decode_batch, enclosing_circle, latent_lattice, make_projection, plane_circles,
                                   write_sites_csv)
from vaestudio.core.render import to_uint8_hwc


def cloud(d: int = 2, n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.linspace(0.6, 1.8, d) + np.linspace(1.0, -1.0, d)


# ============================================================================ core: extent and centre

def test_inscribed_corners_lie_on_the_circle_and_circumscribed_sides_touch_it():
    codes = cloud()
    circle = enclosing_circle(codes, 0.99)
    inscribed = latent_lattice(codes, n=5, extent="inscribed")
    d = np.linalg.norm(inscribed.points - circle.centre, axis=1)
    assert d.max() == pytest.approx(circle.radius)
    corners = inscribed.points.reshape(5, 5, 2)[[0, 0, -1, -1], [0, -1, 0, -1]]
    np.testing.assert_allclose(np.linalg.norm(corners - circle.centre, axis=1), circle.radius)

    outside = latent_lattice(codes, n=5, extent="circumscribed")
    grid = outside.points.reshape(5, 5, 2)
    # The middles of the four sides touch the circle; the corners lie sqrt(2) radii out.
    sides = np.array([grid[0, 2], grid[-1, 2], grid[2, 0], grid[2, -1]])
    np.testing.assert_allclose(np.linalg.norm(sides - circle.centre, axis=1), circle.radius)
    np.testing.assert_allclose(np.linalg.norm(grid[0, 0] - circle.centre), circle.radius * math.sqrt(2))
    x0, x1, y0, y1 = outside.bounds
    assert (x1 - x0) / 2 == pytest.approx(circle.radius) and outside.half_side == pytest.approx(circle.radius)
    assert inscribed.half_side == pytest.approx(circle.radius / math.sqrt(2))
    assert "circumscribed" in outside.placement() and "inscribed" in inscribed.placement()


def test_explicit_extent_is_exact_and_may_be_a_rectangle():
    codes = cloud()
    lat = latent_lattice(codes, n=4, extent=(-3.0, 1.0, 0.5, 2.0))
    grid = lat.points.reshape(4, 4, 2)
    np.testing.assert_array_equal(grid[0, :, 0], np.linspace(-3.0, 1.0, 4))
    np.testing.assert_array_equal(grid[:, 0, 1], np.linspace(2.0, 0.5, 4))  # top row first
    assert lat.bounds == (-3.0, 1.0, 0.5, 2.0) and lat.extent == "explicit"
    np.testing.assert_allclose(lat.corners()[[0, 2]], [[-3.0, 0.5], [1.0, 2.0]])
    np.testing.assert_allclose(lat.latents, lat.points, atol=1e-6)  # 2-D: the view is the latent space


def test_origin_centre_holds_every_coordinate_at_zero_in_ten_d():
    codes = cloud(d=10)
    for pca in (False, True):
        proj = make_projection(codes, dims=(2, 7), pca=pca)
        lat = latent_lattice(codes, n=5, projection=proj, centre="origin")
        middle = lat.latents[12]
        np.testing.assert_allclose(middle, np.zeros(10), atol=1e-6)  # z = 0 is the middle site
        np.testing.assert_allclose(proj.to_view(lat.latents), lat.points, atol=1e-5)  # drawn where they project
        if not pca:
            off = [k for k in range(10) if k not in (2, 7)]
            assert np.abs(lat.latents[:, off]).max() == 0.0
            # The view's own (0, 0) would hold the others at the mean instead: not what "origin" means.
            assert np.abs(proj.to_latent([0.0, 0.0])[off]).max() > 0.1
    assert "z = 0" in lat.placement()


def test_a_point_centre_puts_the_middle_site_there_with_the_others_at_the_mean():
    codes = cloud(d=4)
    proj = make_projection(codes, dims=(0, 3))
    lat = latent_lattice(codes, n=3, projection=proj, centre=(0.25, -0.5), extent="circumscribed")
    np.testing.assert_allclose(lat.points[4], [0.25, -0.5])
    np.testing.assert_allclose(lat.latents[4, [1, 2]], codes.mean(0)[[1, 2]], rtol=1e-5)
    assert lat.bounds[1] - lat.bounds[0] == pytest.approx(2 * lat.circle.radius)


@pytest.mark.parametrize("kwargs, message", [
    ({"extent": (1.0, 0.0, 0.0, 1.0)}, "x0 < x1"),
    ({"extent": (0.0, 1.0, 2.0, 2.0)}, "y0 < y1"),
    ({"extent": (0.0, 1.0, 2.0)}, "4 finite numbers"),
    ({"extent": (0.0, float("nan"), 0.0, 1.0)}, "4 finite numbers"),
    ({"extent": "huge"}, "inscribed, circumscribed"),
    ({"centre": "middle"}, "mean, origin"),
    ({"centre": (1.0, float("inf"))}, "2 finite numbers"),
    ({"circle": "ball"}, "view, sphere"),
])
def test_bad_lattice_choices_are_refused(kwargs, message):
    with pytest.raises(VaeStudioError, match=message.replace("(", r"\(")):
        latent_lattice(cloud(), n=3, **kwargs)


# ============================================================================ core: the two circles

def test_ten_d_view_circle_holds_the_projected_cloud_and_is_much_smaller_than_the_sphere():
    codes = np.random.default_rng(7).normal(size=(5000, 10))
    proj = make_projection(codes, dims=(0, 1))
    points = proj.to_view(codes)
    view, sphere = plane_circles(codes, proj, 0.99)
    assert abs(view.contains(points).mean() - 0.99) < 0.002
    assert sphere.radius > 1.5 * view.radius  # chi(10) vs chi(2) 99% quantiles: ~4.8 vs ~3.0
    np.testing.assert_allclose(view.centre, sphere.centre, atol=1e-9)  # concentric
    default = latent_lattice(codes, n=7, projection=proj)
    assert default.circle_kind == "view" and default.circle.radius == pytest.approx(view.radius)
    assert view.contains(default.points).all()
    assert "view's 99% circle" in default.placement()
    big = latent_lattice(codes, n=7, projection=proj, circle="sphere")
    assert big.circle.radius == pytest.approx(sphere.radius) and "10-D 99% sphere" in big.placement()
    # Most of the sphere's sites lie outside the cloud the view shows.
    assert (~view.contains(big.points)).mean() > 0.3


def test_two_d_has_one_circle():
    codes = cloud()
    view, sphere = plane_circles(codes, make_projection(codes), 0.99)
    assert sphere is None
    lat = latent_lattice(codes, n=3, circle="sphere")
    assert lat.circle_kind == "view" and lat.circle.radius == pytest.approx(view.radius)
    assert lat.circle_text() == "the 99% circle"


# ============================================================================ core: the sites CSV

def test_sites_csv_has_every_site_with_its_exact_latent(tmp_path):
    codes = cloud(d=5)
    lat = latent_lattice(codes, n=6, projection=make_projection(codes, dims=(1, 4)), extent="circumscribed")
    path = tmp_path / "sites.csv"
    write_sites_csv(lat, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "row,col,view_x,view_y,z0,z1,z2,z3,z4"
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    assert table.shape == (36, 9)
    np.testing.assert_array_equal(table[:, 0], np.repeat(np.arange(6), 6))  # rows top first, row-major
    np.testing.assert_array_equal(table[:, 1], np.tile(np.arange(6), 6))
    np.testing.assert_array_equal(table[:, 4:].astype(np.float32), lat.latents)  # decodes the same
    np.testing.assert_array_equal(table[:, 2:4], lat.points)
    assert table[0, 3] > table[-1, 3]  # the first row is the top one


# ============================================================================ CLI

@pytest.fixture(scope="module")
def run3(tmp_path_factory):
    return str(train_tiny_run(tmp_path_factory, 300, 60, "--latent-dim", "3"))


def test_cli_lattice_with_options_writes_the_grid_and_its_sites(run3, tmp_path, capsys):
    from vaestudio.cli import main
    from vaestudio.core.latent import encode_split
    from vaestudio.core.data.registry import open_dataset
    from vaestudio.core.run import Run

    out, sites = tmp_path / "l.png", tmp_path / "sites.csv"
    assert main(["lattice", run3, "--n", "4", "--extent", "circumscribed", "--center", "origin",
                 "--circle", "sphere", "--dims", "0", "2", "--out", str(out), "--sites-out", str(sites)]) == 0
    printed = capsys.readouterr().out
    assert "circumscribed in the great circle of the 3-D 99% sphere, centred on z = 0" in printed
    assert "16 sites -> " in printed
    table = np.loadtxt(sites, delimiter=",", skiprows=1)
    assert table.shape == (16, 7)
    run = Run.load(run3)
    ds = open_dataset(run.dataset_spec)
    codes = encode_split(run.model, ds, "validation").codes
    expected = latent_lattice(codes, 4, make_projection(codes, dims=(0, 2)), extent="circumscribed",
                              centre="origin", circle="sphere")
    np.testing.assert_allclose(table[:, 4:], expected.latents, atol=1e-5)
    # The tiles are the decodes of the CSV's z columns.
    grid = np.asarray(Image.open(out).convert("L")).astype(int)
    tiles = to_uint8_hwc(decode_batch(run.model, table[:, 4:].astype(np.float32)))[..., 0]
    for k in (0, 5, 15):
        r, c = divmod(k, 4)
        cell = grid[1 + r * 29: 29 + r * 29, 1 + c * 29: 29 + c * 29]
        assert np.abs(cell - tiles[k]).max() <= 1


def test_cli_explicit_extent_with_a_negative_first_bound(run3, tmp_path, capsys):
    from vaestudio.cli import main

    sites = tmp_path / "s.csv"
    assert main(["lattice", run3, "--n", "3", "--extent=-1,1,-0.5,0.5", "--out", str(tmp_path / "l.png"),
                 "--sites-out", str(sites)]) == 0
    table = np.loadtxt(sites, delimiter=",", skiprows=1)
    assert table[:, 2].min() == -1.0 and table[:, 2].max() == 1.0 and table[0, 3] == 0.5
    assert "on x from -1 to 1, y from -0.5 to 0.5" in capsys.readouterr().out


def test_cli_scatter_draws_the_view_circle_and_the_labelled_sphere(run3, tmp_path, capsys):
    from vaestudio.cli import main

    out = tmp_path / "s.png"
    assert main(["scatter", run3, "--size", "400", "--square", "--extent", "circumscribed", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "circle radius" in printed and "3-D sphere radius" in printed
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert (np.abs(img - [90, 90, 90]).sum(-1) < 30).sum() > 100  # the dashed sphere and its caption


@pytest.mark.parametrize("extra, names", [
    (["--extent", "1,0,0,1"], ["--extent", "x0 < x1"]),
    (["--extent", "0,1,0"], ["--extent", "4 numbers"]),
    (["--extent", "0,1,nan,1"], ["--extent", "finite"]),
    (["--extent", "0,1e9,0,1"], ["--extent", "finite numbers between"]),
    (["--extent", "square"], ["--extent", "inscribed, circumscribed"]),
    (["--center", "1"], ["--center", "mean, origin or x,y"]),
    (["--center", "1,inf"], ["--center", "finite"]),
    (["--circle", "ball"], ["--circle"]),
    (["--sites-out", "x.txt"], ["--sites-out", ".csv"]),
    (["--extent", "0,1,0,1", "--center", "origin"], ["--center", "--extent"]),
])
def test_cli_lattice_refusals_are_one_line(run3, tmp_path, capsys, extra, names):
    argv = ["lattice", run3, "--out", str(tmp_path / "l.png"), *extra]
    rc, err = run_cli(argv, capsys)
    one_line(rc, err, *names)
    assert not (tmp_path / "l.png").exists()


# ============================================================================ the window

@pytest.fixture
def panel4(qtbot):
    from vaestudio.gui.explore.canvas import LatentCanvas
    from vaestudio.gui.explore.lattice_view import LatticePanel

    explorer = make_explorer(qtbot, make_session(model=tiny_model(latent_dim=4)))
    canvas = LatentCanvas(explorer)
    qtbot.addWidget(canvas)
    canvas.resize(500, 400)
    canvas.show()
    p = LatticePanel(explorer)
    qtbot.addWidget(p)
    p.canvas = canvas
    p.resize(400, 520)
    p.show()
    qtbot.waitExposed(p)
    yield p
    if p.zoom is not None:
        p.zoom.close()
    finish(explorer)


def wait_grid(qtbot, panel, n):
    qtbot.waitUntil(lambda: panel.images["lattice"] is not None and len(panel.images["lattice"]) == n * n
                    and np.allclose(panel.images["lattice"], decode_batch(panel.explorer.model, panel.lattice.latents),
                                    atol=1e-6), timeout=5000)


def test_dock_controls_change_the_lattice_and_the_captions_name_its_circle(qtbot, panel4):
    p, e = panel4, panel4.explorer
    p.n_spin.setValue(5)
    wait_grid(qtbot, p, 5)
    assert p.circle_combo.isEnabled()  # 4-D: the sphere is a choice
    assert p.lattice.circle is e.circle and "view's 99% circle" in p.caption.text()
    assert "lattice in the view's 99% circle" in p.canvas.status.text()
    sphere = e.sphere_circle
    assert sphere is not None and sphere.radius > e.circle.radius
    assert len(p.canvas.sphere_item.getData()[0]) > 0 and p.canvas.sphere_label.isVisible()
    assert "4-D sphere" in p.canvas.sphere_label.textItem.toPlainText()

    p.extent_combo.setCurrentIndex(p.extent_combo.findData("circumscribed"))
    p.circle_combo.setCurrentIndex(p.circle_combo.findData("sphere"))
    p.centre_combo.setCurrentIndex(p.centre_combo.findData("origin"))
    wait_grid(qtbot, p, 5)
    expected = latent_lattice(e.encodings.codes, 5, e.projection, e.coverage, extent="circumscribed",
                              centre="origin", circle="sphere")
    np.testing.assert_allclose(p.lattice.latents, expected.latents, atol=1e-6)
    np.testing.assert_allclose(p.lattice.latents[12], np.zeros(4), atol=1e-6)
    assert p.lattice.half_side == pytest.approx(sphere.radius)
    assert "circumscribed in the great circle of the 4-D 99% sphere, centred on z = 0" in p.caption.text()
    assert "lattice in the great circle of the 4-D 99% sphere" in p.canvas.status.text()
    assert e.lattice_overlay is p.lattice
    square = p.canvas.lattice_square.getData()
    assert np.ptp(square[0]) == pytest.approx(2 * sphere.radius)


def test_two_d_disables_the_circle_choice(qtbot):
    from vaestudio.gui.explore.lattice_view import LatticePanel

    explorer = make_explorer(qtbot, make_session())
    try:
        p = LatticePanel(explorer)
        qtbot.addWidget(p)
        p.show()
        assert not p.circle_combo.isEnabled() and explorer.sphere_circle is None
        assert "the 99% circle" in p.caption.text()
    finally:
        finish(explorer)


def test_the_grid_opens_enlarged_zooms_crisply_and_follows_changes(qtbot, panel4):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    p = panel4
    p.n_spin.setValue(3)
    wait_grid(qtbot, p, 3)
    qtbot.mouseDClick(p.grid_view, Qt.MouseButton.LeftButton)
    dialog = p.zoom
    assert dialog is not None and dialog.isVisible()
    qtbot.waitExposed(dialog)
    np.testing.assert_array_equal(dialog.array, p.grid_view.array)
    fitted = dialog.view.zoom
    h, w = dialog.array.shape[:2]
    vp = dialog.view.viewport()
    assert max(w * fitted / vp.width(), h * fitted / vp.height()) == pytest.approx(1.0, abs=0.05)  # fits

    qtbot.keyClick(dialog.view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert dialog.view.zoom == pytest.approx(fitted * 1.25)
    qtbot.keyClick(dialog.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert dialog.view.zoom == pytest.approx(fitted)
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    wheel = QWheelEvent(centre, QPointF(vp.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, wheel)
    assert dialog.view.zoom == pytest.approx(fitted * 1.25 ** 2)

    # Nearest-neighbour: enlarged 8 times, the picture holds no colour the grid does not.
    dialog.view.zoom_by(8 / dialog.view.zoom)
    shot = vp.grab().toImage()
    shot = shot.convertToFormat(shot.Format.Format_RGB888)
    arr = np.frombuffer(shot.constBits(), np.uint8).reshape(shot.height(), shot.bytesPerLine())[:, :shot.width() * 3]
    shown = {tuple(c) for c in arr.reshape(-1, 3)}
    source = {tuple(c) for c in dialog.array.reshape(-1, 3)}
    assert len(shown - source - {(255, 255, 255)}) == 0

    # The grid changes while the window is open: it follows.
    p.n_spin.setValue(4)
    wait_grid(qtbot, p, 4)
    qtbot.waitUntil(lambda: dialog.array.shape == p.grid_view.array.shape, timeout=3000)
    np.testing.assert_array_equal(dialog.array, p.grid_view.array)
    dialog.close()
    assert p.zoom is None and p.enlarge() is not None  # opens again
