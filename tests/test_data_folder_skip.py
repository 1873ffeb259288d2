"""An image folder with unreadable files: they are skipped and named in a warning, the rest
opens; a folder where nothing decodes is refused; the CLI says the warning once on stderr."""
import io

import numpy as np
import pytest
from PIL import Image

from vaestudio.core.data import folder as folder_module
from vaestudio.core.data.registry import open_dataset
from vaestudio.core.errors import DataError


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _good(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        Image.fromarray(np.full((20, 20, 3), 30 * k, np.uint8)).save(folder / f"good{k}.png")


def _truncated_png(path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(buf, "PNG")
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _all_counts(ds):
    return sum(len(ds.split(s)) for s in ("train", "validation", "test"))


def test_bad_files_are_skipped_and_named(tmp_path, cache, monkeypatch):
    root = tmp_path / "pics"
    _good(root, 6)
    _truncated_png(root / "cut.png")
    (root / "notes.png").write_text("this is text, not a picture")
    ds = open_dataset("folder", root, size=8)
    assert _all_counts(ds) == 6
    assert len(ds.warnings) == 1
    w = ds.warnings[0]
    assert w.startswith("skipped 2 of 8 image files") and "cut.png" in w and "notes.png" in w
    assert "first:" in w  # the reason of this conversion
    # The images kept are the good ones: none is the blank left in a bad file's slot.
    images = np.concatenate([ds.split(s).images for s in ("train", "validation", "test")])
    assert sorted(int(im.mean()) for im in images) == [30 * k for k in range(6)] and images[0].shape == (3, 8, 8)

    # The cache entry validates and is reused (nothing is decoded again); the warning still
    # names the files.
    entries = sorted(p.name for p in cache.iterdir() if p.suffix == ".npy")
    assert len(entries) == 1
    monkeypatch.setattr(folder_module, "load_image", lambda *a, **k: pytest.fail("decoded again"))
    again = open_dataset("folder", root, size=8)
    assert _all_counts(again) == 6 and "cut.png" in again.warnings[0] and "notes.png" in again.warnings[0]
    assert sorted(p.name for p in cache.iterdir() if p.suffix == ".npy") == entries


def test_labels_follow_the_kept_images(tmp_path):
    _good(tmp_path / "p" / "a", 3)
    _good(tmp_path / "p" / "b", 4)
    (tmp_path / "p" / "b" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    ds = open_dataset("folder", tmp_path / "p", size=8)
    labels = np.concatenate([ds.split(s).labels for s in ("train", "validation", "test")])
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1, 1] and "b/bad.png" in ds.warnings[0]


def test_huge_declared_image_is_skipped_without_decoding(tmp_path):
    root = tmp_path / "pics"
    _good(root, 3)
    Image.new("L", (10_000, 10_000)).save(root / "huge.png")  # 100 M pixels declared in a small file
    ds = open_dataset("folder", root, size=8)
    assert _all_counts(ds) == 3
    assert "huge.png" in ds.warnings[0] and "pixels" in ds.warnings[0]


def test_folder_where_nothing_decodes_is_refused(tmp_path, cache):
    root = tmp_path / "pics"
    root.mkdir()
    _truncated_png(root / "cut.png")
    (root / "notes.png").write_text("text")
    with pytest.raises(DataError) as e:
        open_dataset("folder", root, size=8)
    msg = str(e.value)
    assert "none of the 2 image files could be read" in msg and "cut.png" in msg and "notes.png" in msg
    assert "\n" not in msg
    assert not cache.exists() or [p for p in cache.iterdir() if p.suffix in (".npy", ".npz")] == []
    with pytest.raises(DataError, match="none of the 2"):  # and again: no blank entry was left behind
        open_dataset("folder", root, size=8)


def test_cli_prints_the_warning_once_on_stderr(tmp_path, capsys):
    from vaestudio.cli import main

    root = tmp_path / "pics"
    _good(root, 5)
    (root / "notes.png").write_text("text")
    rc = main(["datasets", "show", "folder", "--data-root", str(root), "--data-option", "size=8"])
    out, err = capsys.readouterr()
    assert err.count("skipped 1 of 6 image files") == 1 and "notes.png" in err
    assert "skipped" not in out
    assert rc == 0
