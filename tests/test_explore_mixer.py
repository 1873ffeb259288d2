"""The attribute mixer on a data set with a planted attribute: a slider moves the output the
planted way. The model is built by hand so the direction is known exactly: z0 is the brightness
of the top-left quarter, and the decoder paints that quarter brighter as z0 grows."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from test_explore_support import finish, make_explorer, make_session, region_mean
from vaestudio.core.data.base import array_dataset
from vaestudio.core.kinds import build_model, make_model_config

SIZE = 8
REGION = (slice(0, 4), slice(0, 4))


def planted_dataset(n: int = 400, seed: int = 0):
    """Images whose top-left quarter is bright exactly when attribute "Bright" is set."""
    rng = np.random.default_rng(seed)
    bright = rng.integers(0, 2, n)
    imgs = (rng.random((n, 1, SIZE, SIZE)) * 40).astype(np.uint8)
    imgs[bright == 1, :, :4, :4] = 220
    other = rng.integers(0, 2, n)  # an unrelated attribute
    attrs = np.stack([bright, other], axis=1).astype(np.uint8)
    return array_dataset(imgs, attributes=attrs, attribute_names=["Bright", "Other"], name="planted")


def planted_model():
    """encoder: z0 = mean brightness of the quarter; decoder: quarter logits = 12 z0 - 6."""
    model = build_model(make_model_config(kind="ae", arch="mlp", image_shape=(1, SIZE, SIZE), latent_dim=2,
                                          hidden=(2,))).eval()
    mask = torch.zeros(SIZE, SIZE)
    mask[:4, :4] = 1.0 / 16
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.encoder.body[0].weight[0] = mask.flatten()
        model.encoder.head.weight.copy_(torch.eye(2))
        dec_in, dec_out = model.decoder.body[0], model.decoder.body[2]
        dec_in.weight[0, 0] = 1.0
        dec_out.weight[:, 0] = 12.0 * (mask.flatten() > 0).float()
        dec_out.bias[:] = -6.0
    return model


@pytest.fixture
def mixer(qtbot):
    from vaestudio.gui.explore.mixer import AttributeMixer

    e = make_explorer(qtbot, make_session(planted_dataset(), planted_model()))
    m = AttributeMixer(e)
    qtbot.addWidget(m)
    m.resize(360, 700)
    m.show()
    yield m
    finish(e)


def test_a_slider_moves_the_output_the_planted_way(qtbot, mixer):
    e = mixer.explorer
    without = np.flatnonzero(e.encodings.attributes[:, 0] == 0)
    mixer.base.set_index(int(without[0]))
    names = [mixer.list.item(i).text() for i in range(mixer.list.count())]
    assert names == ["Bright", "Other"]
    mixer.set_chosen("Bright")
    slider = mixer.rows["Bright"].slider
    means, rest = [], []
    for alpha in (0.0, 0.5, 1.0, 1.5):
        slider.setValue(int(alpha * 100))
        means.append(region_mean(mixer.result_view.array, *REGION))
        rest.append(region_mean(mixer.result_view.array, slice(4, 8), slice(0, 8)))
        assert np.isclose(mixer.rows["Bright"].alpha, alpha)
    assert all(b > a + 1 for a, b in zip(means, means[1:])), means
    assert means[0] < 60 and means[2] > 150  # the base is dark; alpha 1 adds the planted brightness
    assert len(set(rest)) == 1  # outside the quarter nothing moves
    slider.setValue(-100)
    assert region_mean(mixer.result_view.array, *REGION) <= means[0]


def test_balancing_and_the_sweep_strip(qtbot, mixer):
    mixer.set_chosen("Bright")
    mixer.set_chosen("Other")
    mixer.balance.setChecked(True)
    vecs = mixer._current_vectors()
    assert [v.balanced_on for v in vecs] == [("Other",), ("Bright",)]
    mixer.steps.setValue(5)
    qtbot.waitUntil(lambda: mixer.sweep_images is not None and len(mixer.sweep_images) == 5, timeout=5000)
    quarter = mixer.sweep_images[:, 0, :4, :4].mean(axis=(1, 2))
    assert np.all(np.diff(quarter) > 0)  # from the base to the mix, brighter each step
    assert mixer.sweep_labels(5)[0] == "×0.00" and mixer.sweep_labels(5)[-1] == "×1.00"


def test_labels_become_is_a_attributes_when_there_are_none(qtbot):
    from vaestudio.gui.explore.mixer import AttributeMixer

    e = make_explorer(qtbot, make_session())
    try:
        m = AttributeMixer(e)
        qtbot.addWidget(m)
        texts = [m.list.item(i).text() for i in range(m.list.count())]
        assert texts == ["is a TL", "is a TR", "is a BL", "is a BR"]
        m.set_chosen("BR")
        m.base.use_pin()  # no pin yet: nothing changes
        e.pin_at(e.points[0])
        m.base.use_pin()
        assert np.array_equal(m.base.latent(), e.pins[-1].z)
        assert m.result_image is not None and m.result_image.shape == (1, 12, 12)
    finally:
        finish(e)
