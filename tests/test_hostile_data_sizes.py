"""Hostile and faulty data files, class 1: small files that would cost gigabytes or hang.

Each case writes a small file (a few MB at most) that declares, inflates to, or unfolds into far
more than it holds, then runs the CLI in a child process: it must refuse with exit 2 and one
stderr line naming the file (or the option), within the harness's memory and time bounds.
"""
import gzip
import pickle
import struct
import zlib

import numpy as np
import pytest

from helpers import assert_refused, run_cli_bounded
from vaestudio.core.data.sample_files import write_celeba, write_cifar10, write_idx_set

MiB = 1 << 20


def deflate_zeros(prefix: bytes, n_zeros: int) -> tuple[bytes, int, int]:
    """A raw deflate stream of `prefix` then `n_zeros` zero bytes, built without compressing
    gigabytes: after a full flush the compressor forgets its history, so each further MiB of
    zeros compresses to the same block, which is repeated. Returns (stream, crc32, length)."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    chunk = bytes(MiB)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    assert n_zeros % MiB == 0
    stream = head + block * (n_zeros // MiB) + co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    big = bytes(16 * MiB)
    for _ in range(n_zeros // len(big)):
        crc = zlib.crc32(big, crc)
    crc = zlib.crc32(bytes(n_zeros % len(big)), crc)
    return stream, crc, len(prefix) + n_zeros


def gzip_bomb(path, prefix: bytes, n_zeros: int):
    stream, crc, length = deflate_zeros(prefix, n_zeros)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, no time
    path.write_bytes(header + stream + struct.pack("<II", crc, length & 0xFFFFFFFF))
    assert path.stat().st_size < 8 * MiB
    return path


def zip_one_deflated(path, name: str, prefix: bytes, n_zeros: int):
    """A zip archive (as np.savez writes, but deflated) whose one member is `prefix` + zeros."""
    stream, crc, length = deflate_zeros(prefix, n_zeros)
    assert length < 1 << 32  # no zip64 needed
    raw = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(stream), length, len(raw), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(stream), length,
                          len(raw), 0, 0, 0, 0, 0, 0)
    body = local + raw + stream
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(raw), len(body), 0)
    path.write_bytes(body + central + raw + end)
    assert path.stat().st_size < 8 * MiB
    return path


def npy_header(shape, dtype="|u1") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def train(root, tmp_path, dataset="mnist", *extra):
    return run_cli_bounded(["train", "--dataset", dataset, "--data-root", str(root), "--epochs", "1",
                            "--out", str(tmp_path / "run"), *extra], tmp_path)


# -- IDX (MNIST): gzip inflated incrementally, declared sizes checked before allocating ----------

def _idx_header(dims, code=0x08) -> bytes:
    return bytes([0, 0, code, len(dims)]) + np.asarray(dims, dtype=">u4").tobytes()


@pytest.mark.parametrize("case", ["gzip-goes-on-for-gigabytes", "gzip-declares-billions",
                                  "gzip-short-of-a-big-declaration", "plain-short-of-a-big-declaration"])
def test_idx_sizes(tmp_path, case):
    raw = tmp_path / "data" / "MNIST" / "raw"
    gz = case.startswith("gzip")
    write_idx_set(raw, 60, 20, gz=gz)
    bad = raw / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    if case == "gzip-goes-on-for-gigabytes":  # 60000x28x28 declared, 3 GiB of data follow (4 MB file)
        gzip_bomb(bad, _idx_header((60000, 28, 28)), 3 * 1024 * MiB)
    elif case == "gzip-declares-billions":
        bad.write_bytes(gzip.compress(_idx_header((4_000_000_000, 28, 28)) + bytes(1000)))
    elif case == "gzip-short-of-a-big-declaration":  # 1.5 GB declared, 1 MiB present
        bad.write_bytes(gzip.compress(_idx_header((2_000_000, 28, 28)) + bytes(MiB)))
    else:
        bad.write_bytes(_idx_header((2_000_000, 28, 28)) + bytes(MiB))
    line = assert_refused(train(tmp_path / "data", tmp_path), bad.name)
    assert "IDX header" in line


# -- npz: member headers checked before reading; labels bounded before names are built ---------

def test_npz_huge_label_value(tmp_path):
    labels = np.zeros(20, np.int64)
    labels[7] = 10**9  # would build a billion label names
    path = tmp_path / "mine.npz"
    np.savez(path, images=np.zeros((20, 8, 8), np.uint8), labels=labels)
    line = assert_refused(train(path, tmp_path, "npz"), path.name, "'labels'")
    assert "1,000,000,000" in line


def test_npz_zip_bomb(tmp_path):
    # 3 GiB of images (256k 64x64 RGB, all zeros) in a 3 MB archive.
    path = zip_one_deflated(tmp_path / "bomb.npz", "images.npy", npy_header((262144, 64, 64, 3)), 3 * 1024 * MiB)
    assert_refused(train(path, tmp_path, "npz"), path.name, "'images'")


# -- CIFAR-10: the unpickled structure is type-checked before numpy converts it ----------------

def test_cifar_labels_nested_through_memo_references(tmp_path):
    folder = tmp_path / "data" / "cifar-10-batches-py"
    write_cifar10(folder, per_batch=4)
    nested = [1, 2]
    for _ in range(60):  # 2**60 leaves, a few KB pickled: each level refers to the one below twice
        nested = [nested, nested]
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({"data": np.zeros((2, 3072), np.uint8), "labels": nested, "batch_label": "x"}, f, protocol=2)
    assert (folder / "data_batch_1").stat().st_size < 40_000
    assert_refused(train(tmp_path / "data", tmp_path, "cifar10"), "data_batch_1", "'labels'")


# -- CelebA: every attribute value is 1 or -1 ---------------------------------------------------

def test_celeba_attribute_value_out_of_range(tmp_path):
    root = tmp_path / "data"
    write_celeba(root, 3, size=(40, 50))
    attr = root / "list_attr_celeba.txt"
    lines = attr.read_text().splitlines()
    lines[3] = lines[3].replace("-1", "300", 1)
    attr.write_text("\n".join(lines) + "\n")
    line = assert_refused(train(root, tmp_path, "celeba"), str(attr))
    assert "line 4: value 300" in line


# -- data set options: bounded wherever they come from -----------------------------------------

@pytest.mark.parametrize("dataset, option", [("digits", "n_test=100000000000"), ("celeba", "size=100000")])
def test_option_out_of_range_on_the_command_line(tmp_path, dataset, option):
    r = train(tmp_path, tmp_path, dataset, "--data-option", option)
    line = assert_refused(r, option.split("=")[0])
    assert "must be at most" in line
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_option_out_of_range_in_a_checkpoint(tmp_path):
    from vaestudio.core.config import TrainConfig
    from vaestudio.core.data.base import DatasetSpec
    from vaestudio.core.kinds import make_model_config
    from vaestudio.core.run import Run, Segment

    run = Run.new(make_model_config(kind="vae", arch="mlp", image_shape=(1, 28, 28), latent_dim=2),
                  TrainConfig(epochs=1, batch_size=20, device="cpu"))
    run.segments.append(Segment(DatasetSpec("digits", None, {"n_train": 600, "n_test": 10**11})))
    path = run.save(tmp_path / "run" / "model.pt")
    r = run_cli_bounded(["evaluate", str(path)], tmp_path)
    assert "must be at most" in assert_refused(r, "n_test")


# -- image files: the declared pixel count is checked before decoding ---------------------------

def test_image_folder_png_of_a_hundred_million_pixels(tmp_path):
    from PIL import Image

    root = tmp_path / "pictures"
    root.mkdir()
    Image.new("L", (10_000, 10_000)).save(root / "huge.png")  # 100 M pixels in a 100 KB file
    assert (root / "huge.png").stat().st_size < 2 * MiB
    assert_refused(train(root, tmp_path, "folder"), "huge.png")
