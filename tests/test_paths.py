"""Atomic writes: the target is replaced whole or not at all, and no temp file is left."""
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
