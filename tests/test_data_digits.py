"""The built-in digits: deterministic, cached, labels that match the drawings."""
import numpy as np
import pytest

from vaestudio.core.data import digits
from vaestudio.core.data.digits import digit_block, open_digits
from vaestudio.core.errors import Cancelled


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_blocks_are_deterministic_and_seeded():
    a_img, a_lab = digit_block(0, 0, 3)
    b_img, b_lab = digit_block(0, 0, 3)
    assert np.array_equal(a_img, b_img) and np.array_equal(a_lab, b_lab)
    c_img, _ = digit_block(1, 0, 3)
    d_img, _ = digit_block(0, 1, 3)  # test split differs from train
    assert not np.array_equal(a_img, c_img) and not np.array_equal(a_img, d_img)
    assert a_img.shape == (digits.BLOCK, 1, 28, 28) and a_img.dtype == np.uint8


def test_open_small_set_splits_and_prefix(fresh_cache):
    ds = open_digits(seed=0, n_train=1200, n_test=300)
    assert [len(ds.train), len(ds.validation), len(ds.test)] == [1000, 200, 300]
    assert ds.image_shape == (1, 28, 28)
    assert ds.label_names == [str(d) for d in range(10)]
    first_img, first_lab = digit_block(0, 0, 0)
    # A small set is the start of the full one: the first block, then the next.
    assert np.array_equal(np.asarray(ds.train.images[:1000]), first_img)
    assert np.array_equal(ds.train.labels[:1000], first_lab)
    second_img, _ = digit_block(0, 0, 1)
    assert np.array_equal(np.asarray(ds.validation.images), second_img[:200])
    assert ds.spec.options == {"seed": 0, "n_train": 1200, "n_test": 300, "validation": "auto"}


def test_second_open_reads_the_cache(fresh_cache, monkeypatch):
    first = open_digits(n_train=600, n_test=100)
    assert len(list(fresh_cache.glob("digits-*.npy"))) == 2
    monkeypatch.setattr(digits, "digit_block", lambda *a: pytest.fail("regenerated despite the cache"))
    again = open_digits(n_train=600, n_test=100)
    assert isinstance(again.train.images, np.memmap)
    assert np.array_equal(np.asarray(first.test.images), np.asarray(again.test.images))


def test_progress_and_cancel_leave_no_cache(fresh_cache):
    calls = []
    open_digits(n_train=2000, n_test=100, progress=lambda d, t, m: calls.append((d, t)))
    assert (2000, 2000) in calls and (100, 100) in calls
    assert [d for d, t in calls if t == 2000] == sorted(d for d, t in calls if t == 2000)
    with pytest.raises(Cancelled):
        open_digits(seed=5, n_train=3000, n_test=100, cancel=lambda: True)
    assert [p.name for p in fresh_cache.iterdir() if p.name.startswith(".")] == []  # no temp files
    assert len(list(fresh_cache.glob("digits-*"))) == 4  # only the finished entries (2 npy + 2 npz)


def test_images_look_like_centred_ink_on_black():
    images, labels = digit_block(0, 0, 0)
    x = images[:, 0].astype(float) / 255
    assert np.median(x) == 0.0  # black background
    assert (x.max(axis=(1, 2)) > 0.9).all()  # every digit has solid ink
    ink = x.sum(axis=(1, 2))
    assert 40 < ink.mean() < 200
    rows = np.arange(28)
    cy = (x.sum(axis=2) * rows).sum(1) / ink
    cx = (x.sum(axis=1) * rows).sum(1) / ink
    assert abs(cy.mean() - 13.5) < 1.5 and abs(cx.mean() - 13.5) < 1.5
    # The "1"s are the narrowest digits, the "0"s and "8"s carry the most ink.
    width = (x.max(axis=1) > 0.5).sum(1)
    assert width[labels == 1].mean() < width[labels == 0].mean() - 3
    assert ink[labels == 1].mean() < ink[labels == 8].mean()


def test_labels_match_drawings_but_classes_overlap():
    """A nearest-class-mean classifier fit on one block does well on another, not perfectly."""
    train_x, train_y = digit_block(0, 0, 0)
    test_x, test_y = digit_block(0, 1, 0)
    a = train_x.reshape(len(train_x), -1).astype(np.float32) / 255
    b = test_x.reshape(len(test_x), -1).astype(np.float32) / 255
    means = np.stack([a[train_y == k].mean(0) for k in range(10)])
    pred = ((b[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    accuracy = (pred == test_y).mean()
    assert 0.6 < accuracy < 0.99
    assert set(np.unique(train_y)) == set(range(10))
