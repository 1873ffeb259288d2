import numpy as np
import pytest
from PIL import Image

from vaestudio.core.latent import Circle
from vaestudio.core.render import (PALETTE, image_grid, image_strip, nice_ticks, scatter_plot,
                                   to_uint8_hwc)


def test_uint8_conversion_takes_floats_and_bytes():
    f = np.array([[[[0.0, 0.5, 1.0, 2.0]]]], dtype=np.float32)
    assert to_uint8_hwc(f)[0, 0, :, 0].tolist() == [0, 128, 255, 255]
    u = np.arange(24, dtype=np.uint8).reshape(1, 3, 2, 4)
    np.testing.assert_array_equal(to_uint8_hwc(u)[0], u[0].transpose(1, 2, 0))
    with pytest.raises(ValueError):
        to_uint8_hwc(np.zeros((2, 2, 5, 5)))


def test_grid_places_each_image_in_its_cell():
    imgs = np.zeros((6, 1, 4, 4), np.float32)
    for k in range(6):
        imgs[k] = k / 5
    g = np.asarray(image_grid(imgs, ncols=3, padding=1, scale=2))
    assert g.shape == (2 * 8 + 3, 3 * 8 + 4, 3)
    for k in range(6):
        r, c = divmod(k, 3)
        y, x = 1 + r * 9, 1 + c * 9
        assert (g[y:y + 8, x:x + 8] == round(k / 5 * 255)).all()
    assert (g[0] == 255).all()  # white padding


def test_labels_add_a_caption_band_with_ink():
    imgs = np.full((3, 3, 20, 20), 1.0, np.float32)
    plain = image_strip(imgs, scale=3)
    labelled = image_strip(imgs, labels=["a=0", "a=1", "a=2"], scale=3)
    assert plain.size[0] == labelled.size[0] and labelled.size[1] > plain.size[1]
    band = np.asarray(labelled)[plain.size[1]:]
    assert (band < 128).any()  # some dark text was drawn
    with pytest.raises(ValueError):
        image_strip(imgs, labels=["only one"])


def test_nice_ticks_are_round_and_cover_the_range():
    t = nice_ticks(-3.3, 4.1)
    assert t.tolist() == [-2.0, 0.0, 2.0, 4.0]
    assert nice_ticks(0.0, 0.01, 5).tolist() == pytest.approx([0, 0.002, 0.004, 0.006, 0.008, 0.01])


def test_scatter_draws_labelled_points_and_the_circle():
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(size=(300, 2)) * 0.3 + [-3, 0], rng.normal(size=(300, 2)) * 0.3 + [3, 0]])
    labels = np.repeat([0, 3], 300)
    img = scatter_plot(pts, labels, label_names=[str(k) for k in range(10)],
                       circles=[Circle(np.zeros(2), 4.0, 0.99)], size=400)
    assert img.size == (400, 400) and img.mode == "RGB"
    a = np.asarray(img).astype(int)

    def near(colour):
        return (np.abs(a - colour).sum(-1) < 40)

    blue, red = near(PALETTE[0]), near(PALETTE[3])
    assert blue.sum() > 50 and red.sum() > 50
    # Label 0 sits left of label 3, as in the data.
    assert np.nonzero(blue)[1].mean() < np.nonzero(red)[1].mean()
    # The circle's ink reaches above the clouds (the clouds sit on y = 0).
    dark = (a.sum(-1) < 150)
    ys = np.nonzero(dark[:, 100:300])[0]
    assert ys.min() < 120


def test_scatter_without_labels_has_no_legend_and_saves(tmp_path):
    img = scatter_plot(np.random.default_rng(1).normal(size=(50, 2)), size=300, title="codes")
    img.save(tmp_path / "s.png")
    assert Image.open(tmp_path / "s.png").size == (300, 300)
