"""The built-in cartoon faces: deterministic, attributes drawn as named and correlated."""
import numpy as np
import pytest

from vaestudio.core.data.attributes import HAIR_LABELS
from vaestudio.core.data.face_traits import FACE_ATTRIBUTES
from vaestudio.core.data.faces import face_block, open_faces


@pytest.fixture(scope="module")
def faces():
    """1,000 faces (two blocks) with their attributes, as arrays."""
    blocks = [face_block(0, b) for b in (0, 1)]
    images = np.concatenate([b[0] for b in blocks]).astype(np.float32) / 255
    attributes = np.concatenate([b[1] for b in blocks])
    return images, {name: attributes[:, i] == 1 for i, name in enumerate(FACE_ATTRIBUTES)}


def region(images, rows, cols):
    return images[:, :, rows[0]:rows[1], cols[0]:cols[1]]


def test_blocks_are_deterministic():
    a, attrs_a = face_block(3, 2)
    b, attrs_b = face_block(3, 2)
    assert np.array_equal(a, b) and np.array_equal(attrs_a, attrs_b)
    c, _ = face_block(4, 2)
    assert not np.array_equal(a, c)
    assert a.shape == (500, 3, 64, 64) and a.dtype == np.uint8


def test_required_celeba_attribute_names():
    for name in ("Blond_Hair", "Black_Hair", "Brown_Hair", "Eyeglasses", "Smiling", "Male", "Bangs",
                 "Pale_Skin", "Wearing_Hat"):
        assert name in FACE_ATTRIBUTES


def test_blond_hair_is_lighter_than_black_hair(faces):
    images, a = faces
    visible = ~a["Wearing_Hat"]
    top_of_head = region(images, (12, 16), (28, 36)).mean(axis=(1, 2, 3))
    blond = top_of_head[a["Blond_Hair"] & visible]
    black = top_of_head[a["Black_Hair"] & visible]
    assert len(blond) > 30 and len(black) > 30
    assert blond.mean() > black.mean() + 0.4
    assert np.median(blond) > np.percentile(black, 90)


def test_glasses_lipstick_and_pale_skin_show(faces):
    images, a = faces
    eyes = region(images, (24, 30), (24, 40)).mean(axis=(1, 2, 3))
    assert eyes[a["Eyeglasses"]].mean() < eyes[~a["Eyeglasses"]].mean() - 0.05
    mouth = region(images, (36, 42), (28, 36))
    redness = (mouth[:, 0] - mouth[:, 1]).mean(axis=(1, 2))
    assert redness[a["Wearing_Lipstick"]].mean() > redness[~a["Wearing_Lipstick"]].mean() + 0.05
    cheeks = region(images, (30, 34), (24, 28)).mean(axis=(1, 2, 3))
    assert cheeks[a["Pale_Skin"]].mean() > cheeks[~a["Pale_Skin"]].mean() + 0.1


def test_attributes_are_correlated_as_in_celeba(faces):
    _, a = faces
    male = a["Male"]
    assert not (male & a["Wearing_Lipstick"]).any()
    assert not (~male & ~a["No_Beard"]).any()  # only men have beards
    assert male[a["Bald"]].all()
    assert a["Blond_Hair"][~male].mean() > 2 * a["Blond_Hair"][male].mean()
    assert a["Gray_Hair"][~a["Young"]].mean() > 5 * a["Gray_Hair"][a["Young"]].mean()
    assert a["Mouth_Slightly_Open"][a["Smiling"]].mean() > a["Mouth_Slightly_Open"][~a["Smiling"]].mean() + 0.3
    colours = np.stack([a[k] for k in ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair", "Bald")], 1)
    assert colours.sum(1).max() == 1  # one hair colour at most; bald has none
    for name in FACE_ATTRIBUTES:  # every attribute occurs, none is universal
        assert 0 < a[name].mean() < 1, name


def test_open_faces_labels_splits_and_spec(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path))
    ds = open_faces(seed=0, n=600)
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [480, 60, 60]
    assert ds.image_shape == (3, 64, 64)
    assert ds.attribute_names == list(FACE_ATTRIBUTES) and ds.label_names == list(HAIR_LABELS)
    attrs = ds.train.attributes
    blond = attrs[:, FACE_ATTRIBUTES.index("Blond_Hair")] == 1
    assert (ds.train.labels[blond] == HAIR_LABELS.index("blond hair")).all()
    first, first_attrs = face_block(0, 0)
    assert np.array_equal(np.asarray(ds.train.images), first[:480])
    assert np.array_equal(attrs, first_attrs[:480])
    assert ds.spec.options == {"seed": 0, "n": 600}
