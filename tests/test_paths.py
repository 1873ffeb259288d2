"""Atomic writes: the target is replaced whole or not at all, and no temp file is left."""
import os

import pytest

from vaestudio.core.paths import atomic_write, atomic_write_bytes


def leftovers(folder):
    return [p.name for p in folder.iterdir() if ".tmp" in p.name]


def test_binary_and_text_writes_replace_the_target(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    with atomic_write(target) as f:
        f.write(b"one")
        assert not target.exists()  # nothing at the target until the write is complete
        assert leftovers(target.parent) and leftovers(target.parent)[0].startswith(".out.bin.tmp")
    assert target.read_bytes() == b"one"
    with atomic_write(target, "w") as f:
        f.write("tw\u00f6")
    assert target.read_text(encoding="utf-8") == "tw\u00f6"
    atomic_write_bytes(target, b"three")
    assert target.read_bytes() == b"three" and leftovers(target.parent) == []


def test_an_exception_inside_leaves_the_old_target_and_no_temp_file(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="half way"):
        with atomic_write(target, "w") as f:
            f.write("new and partial")
            raise RuntimeError("half way")
    assert target.read_text() == "old" and leftovers(tmp_path) == []
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / "never.bin") as f:
            f.write(b"x")
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_only_write_modes(tmp_path):
    with pytest.raises(ValueError, match="mode 'wb' or 'w'"):
        with atomic_write(tmp_path / "x", "ab"):
            pass


def test_a_planted_link_at_every_old_temp_name_is_never_written_through(tmp_path):
    """Temp names were predictable (`.NAME.tmpPID-THREAD`); now they are created exclusively."""
    import os
    import threading

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "model.pt"
    old_name = tmp_path / f".model.pt.tmp{os.getpid()}-{threading.get_ident()}"
    os.symlink(victim, old_name)
    atomic_write_bytes(target, b"weights")
    assert target.read_bytes() == b"weights" and victim.read_text() == "keep me"
    assert not target.is_symlink()


def test_leftovers_of_a_killed_writer_are_swept_on_the_next_write(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    left = tmp_path / f".model.pt.tmp{dead}-x1y2"
    left.write_bytes(b"\0" * 1000)
    live = tmp_path / f".model.pt.tmp{os.getpid()}-busy"  # another writer of this process
    live.write_bytes(b"in progress")
    other = tmp_path / ".other.pt.tmp1-z"  # another file's temp: not ours to sweep
    other.write_bytes(b"z")
    atomic_write_bytes(tmp_path / "model.pt", b"new")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert left.name not in names and live.name in names and other.name in names
