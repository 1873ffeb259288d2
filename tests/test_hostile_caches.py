"""Caches that break or lie: a damaged, incomplete or stale cache entry is a miss -- removed and
rebuilt from its sources -- never a crash and never stale images; leftovers of killed
conversions are swept; a clean entry is reopened without rebuilding."""
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from vaestudio.core.data import digits as digits_module
from vaestudio.core.data import images as images_module
from vaestudio.core.data.cache import build_cached
from vaestudio.core.data.digits import open_digits
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.data.sample_files import write_celeba

N_TRAIN, N_TEST = 300, 100


@pytest.fixture
def drawn(monkeypatch):
    """Counts the digit blocks drawn (the generator's calls)."""
    calls = []
    real = digits_module.digit_block

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(digits_module, "digit_block", counting)
    return calls


def open_small_digits():
    ds = open_digits(n_train=N_TRAIN, n_test=N_TEST)
    return {"train": np.array(ds.train.images), "train_labels": np.array(ds.train.labels),
            "validation": np.array(ds.validation.images), "test": np.array(ds.test.images),
            "test_labels": np.array(ds.test.labels)}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def only(cache, pattern):
    found = sorted(cache.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_truncated_arrays_file_is_rebuilt(cache, drawn):
    fresh = open_small_digits()
    arrays = only(cache, "digits-train-*.npz")
    arrays.write_bytes(arrays.read_bytes()[: arrays.stat().st_size // 2])
    drawn.clear()
    assert_same(open_small_digits(), fresh)  # before the fix: zipfile.BadZipFile
    assert drawn, "the damaged entry was not rebuilt"
    with zipfile.ZipFile(arrays) as z:  # the rebuilt entry is whole again
        assert z.testzip() is None


def test_arrays_file_missing_a_key_is_rebuilt(cache, drawn):
    fresh = open_small_digits()
    arrays = only(cache, "digits-train-*.npz")
    with np.load(arrays, allow_pickle=False) as z:
        kept = {k: z[k] for k in z.files if k != "labels"}
    with open(arrays, "wb") as f:
        np.savez(f, **kept)
    drawn.clear()
    assert_same(open_small_digits(), fresh)  # before the fix: KeyError 'labels'
    assert drawn


def test_bytes_overwritten_inside_the_cached_images_are_detected(cache, drawn):
    fresh = open_small_digits()
    images = only(cache, "digits-train-*.npy")
    data = bytearray(images.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 40] = bytes(255 - b for b in data[middle:middle + 40])
    images.write_bytes(bytes(data))
    drawn.clear()
    assert_same(open_small_digits(), fresh)  # before the fix: the damaged pixels were served
    assert drawn


def test_damage_inside_a_large_entry_is_caught_by_the_sampled_check(cache):
    """Entries above the full-check size are checked on a sample of blocks: a damaged run of
    bytes longer than the sample spacing cannot fall between samples."""
    n, shape = 200, (3, 64, 64)  # 2.4 MB of images

    def make(lo, hi):
        rng = np.random.default_rng(lo)
        return rng.integers(0, 256, (hi - lo, *shape), dtype=np.uint8), {"labels": np.arange(lo, hi)}

    fresh = np.array(build_cached("big", n, shape, make, chunk=64)[0])
    path = cache / "big.npy"
    data = bytearray(path.read_bytes())
    start = len(data) // 3
    data[start:start + 20000] = bytes(20000)
    path.write_bytes(bytes(data))
    calls = []

    def counting(lo, hi):
        calls.append(lo)
        return make(lo, hi)

    again, arrays = build_cached("big", n, shape, counting, chunk=64)
    assert calls and np.array_equal(np.asarray(again), fresh)
    assert arrays["labels"].tolist() == list(range(n))


def red_of(images):
    """Each image's mean red in its bright corner (write_celeba's image i has red i * 7)."""
    return np.asarray(images)[:, 0, :6, :6].mean(axis=(1, 2))


def _picture(red):
    arr = np.empty((218, 178, 3), dtype=np.uint8)
    arr[:] = (red, 30, 220)
    return arr


def test_celeba_jpeg_replaced_after_caching_is_served_new(cache, tmp_path):
    root = tmp_path / "data"
    write_celeba(root, 10)  # no partition file: images stay in file order
    first = open_dataset("celeba", root)
    assert abs(red_of(first.train.images)[4] - 28) < 4  # image 4 of 0..9 encodes 4 * 7
    jpeg = root / "img_align_celeba" / "000005.jpg"
    before = jpeg.stat()
    Image.fromarray(_picture(250)).save(jpeg, quality=90)  # rewritten in place: the folder's time stays
    # A replacement comes later than the conversion; file times are coarse, so say so explicitly.
    os.utime(jpeg, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    again = open_dataset("celeba", root)
    reds = red_of(again.train.images)
    assert abs(reds[4] - 250) < 4  # before the fix: 28, the old picture
    assert np.abs(np.delete(reds, 4) - np.delete(np.arange(8) * 7, 4)).max() < 4  # the others as they were
    assert len(list(cache.glob("celeba-*.npy"))) == 1  # the stale entry was replaced, not left behind


def _dead_pid():
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            return int(f.read())  # PIDs are below pid_max, so this one never runs
    except (OSError, ValueError):
        pid = 4_000_000
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return pid
            except OSError:
                pass
            pid -= 1


def test_leftover_temp_files_of_killed_conversions_are_swept(cache, drawn):
    fresh = open_small_digits()
    stem = only(cache, "digits-train-*.npy").name
    dead = _dead_pid()
    leftovers = [cache / f".{stem}.tmp{dead}-k1ll3d0x",  # killed while writing this very entry
                 cache / f".celeba-0123456789abcdef.npy.tmp{dead}-abcd_123",  # another data set's
                 cache / f".digits-test-0000.npz.tmp{dead}-zz"]
    for p in leftovers:
        p.write_bytes(b"\0" * 100_000)
    alive = cache / f".faces-0123.npy.tmp{os.getpid()}-busy1234"  # a conversion still running
    alive.write_bytes(b"\0" * 10)
    unrelated = cache / "notes.tmp123-x"  # not a temp-file name: not ours to remove
    unrelated.write_text("keep")
    drawn.clear()
    assert_same(open_small_digits(), fresh)
    assert not drawn  # the clean entries were reused, and the sweep still ran
    assert [p.name for p in leftovers if p.exists()] == []
    assert alive.exists() and unrelated.exists()


def test_clean_reopen_does_not_rebuild(cache, drawn, monkeypatch):
    fresh = open_small_digits()
    assert drawn
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    monkeypatch.setattr(digits_module, "digit_block", lambda *a: pytest.fail("drawn again"))
    again = open_digits(n_train=N_TRAIN, n_test=N_TEST)
    assert isinstance(again.train.images, np.memmap)
    assert_same(open_small_digits(), fresh)
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps


def test_clean_celeba_reopen_does_not_convert(cache, tmp_path, monkeypatch):
    root = tmp_path / "data"
    write_celeba(root, 6)
    first = np.array(open_dataset("celeba", root).train.images)
    monkeypatch.setattr(images_module, "load_image", lambda *a, **k: pytest.fail("converted twice"))
    assert np.array_equal(np.asarray(open_dataset("celeba", root).train.images), first)


def test_folder_image_replaced_after_caching_is_served_new(cache, tmp_path):
    root = tmp_path / "pictures"
    root.mkdir()
    for i in range(10):
        Image.fromarray(np.full((20, 20, 3), 10 * i, dtype=np.uint8)).save(root / f"{i}.png")
    first = open_dataset("folder", root, size=8)
    before = sorted(float(v) for s in (first.train, first.validation, first.test)
                    for v in np.asarray(s.images).mean(axis=(1, 2, 3)))
    assert max(before) < 95
    png = root / "3.png"
    stat = png.stat()
    Image.fromarray(np.full((20, 20, 3), 200, dtype=np.uint8)).save(png)
    os.utime(png, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    again = open_dataset("folder", root, size=8)
    after = sorted(float(v) for s in (again.train, again.validation, again.test)
                   for v in np.asarray(s.images).mean(axis=(1, 2, 3)))
    assert after == sorted([v for v in before if abs(v - 30) > 1] + [200.0])
    assert len(list(cache.glob("folder-*.npy"))) == 1  # replaced in place, no stale entry left behind
