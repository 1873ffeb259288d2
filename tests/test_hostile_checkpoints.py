"""Class 1 of the hostile-input review, checkpoints: a hostile model.pt costs no more than its own
size to refuse, and gives one line naming the file (exit 2, no traceback).

Roots: (1) the zip directory is read before torch.load allocates: a compressed record (an
inflation bomb) or records larger than the file are refused; (2) the model settings are bounded
(at most 200 M parameters, by arithmetic) and the weights' shapes are compared with a model built
on the "meta" device before the real one is built; (3) every field is checked for its type,
optimiser states against the model's optimiser before they are loaded.

Each case runs the CLI in a child process (tests/helpers.py) that measures its peak memory.
The hostile files are built here, small on disk, from a real run.
"""
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import torch

from helpers import assert_refused, run_cli_bounded, train_tiny_run


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A real one-epoch run (mnist-format files the test writes): RUN/model.pt with Adam state."""
    return train_tiny_run(tmp_path_factory, 200, 50, "--device", "cpu", "--threads", "1")


def _tampered(base_run, tmp_path, change) -> Path:
    """A copy of the run folder whose model.pt went through `change(data)`."""
    folder = tmp_path / "bad"
    shutil.copytree(base_run, folder)
    path = folder / "model.pt"
    data = torch.load(path, weights_only=True)
    change(data)
    torch.save(data, path)
    return path


def _rewrite_zip(src, dst, replace: dict) -> None:
    """Write the zip `src` again by hand, record by record, with replace[name] = (method, raw
    bytes, uncompressed size, crc32) for the records to swap (ZIP64 sizes where needed)."""
    zin = zipfile.ZipFile(src)
    out, central = bytearray(), bytearray()
    for info in zin.infolist():
        name = info.filename.encode()
        if info.filename in replace:
            method, raw, size, crc = replace[info.filename]
        else:
            raw = zin.read(info.filename)
            method, size, crc = 0, len(raw), zlib.crc32(raw)
        big = size >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, size, len(raw)) if big else b""
        s32, c32 = (0xFFFFFFFF, 0xFFFFFFFF) if big else (size, len(raw))
        version = 45 if big else 20
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0, method, 0, 0, crc, c32, s32, len(name),
                           len(extra)) + name + extra + raw
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0, method, 0, 0, crc, c32, s32,
                               len(name), len(extra), 0, 0, 0, 0, offset) + name + extra
    n = len(zin.infolist())
    cd_offset = len(out)
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), cd_offset, 0)
    dst.write_bytes(bytes(out))


def _deflated_zeros(gib: int):
    """A raw deflate stream of `gib` GiB of zero bytes, about 1 MB per GiB: one 64 MiB block
    flushed to a byte boundary, repeated, then an empty final block."""
    chunk = bytes(64 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    n = (gib << 30) // len(chunk)
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    return block * n + b"\x03\x00", n * len(chunk), crc


def test_a_tensor_record_that_inflates_to_4_gib_is_refused_from_the_zip_directory(base_run, tmp_path):
    src = base_run / "model.pt"
    record = next(i.filename for i in zipfile.ZipFile(src).infolist() if i.filename.endswith("/data/0"))
    bomb = tmp_path / "bomb.pt"
    raw, size, crc = _deflated_zeros(4)
    _rewrite_zip(src, bomb, {record: (zipfile.ZIP_DEFLATED, raw, size, crc)})
    assert bomb.stat().st_size < 6_000_000 and zipfile.ZipFile(bomb).getinfo(record).file_size == 4 << 30
    line = assert_refused(run_cli_bounded(["info", str(bomb)], tmp_path), bomb.name)
    assert "compressed" in line


def test_a_model_config_describing_a_huge_model_is_refused_before_it_is_built(base_run, tmp_path):
    # 16000-wide hidden layers: about 512 M parameters (2 GB) on 28x28 images; the file stays tiny
    path = _tampered(base_run, tmp_path, lambda d: d["model_config"].update(hidden=[16000, 16000]))
    assert path.stat().st_size < 1_000_000
    line = assert_refused(run_cli_bounded(["info", str(path)], tmp_path), path.name)
    assert "parameters" in line


@pytest.mark.parametrize("history,named", [
    (7, "history should be a list"),
    ([{"epoch": 1, "train_loss": torch.zeros(3)}], "holds a Tensor under 'train_loss'"),
])
def test_a_wrong_typed_history_is_one_line(base_run, tmp_path, history, named):
    path = _tampered(base_run, tmp_path, lambda d: d.update(history=history))
    line = assert_refused(run_cli_bounded(["info", str(path)], tmp_path), path.name)
    assert named in line


@pytest.mark.parametrize("damage,named", [
    (lambda adam: adam["state"][0].update(exp_avg=torch.zeros(3)), "'exp_avg' of shape (3,)"),
    (lambda adam: adam["param_groups"][0].update(betas="xy"), "'betas'"),
])
def test_garbage_optimiser_state_on_resume_is_one_line_and_trains_nothing(base_run, tmp_path, damage, named):
    path = _tampered(base_run, tmp_path, lambda d: damage(d["optimizers"]["adam"]))
    before = path.read_bytes()
    r = run_cli_bounded(["train", "--out", str(path.parent), "--resume", "--epochs", "2", "--device", "cpu",
                         "--threads", "1"], tmp_path)
    line = assert_refused(r, path.name)
    assert named in line and "optimiser 'adam'" in line
    assert path.read_bytes() == before  # nothing trained, nothing written
