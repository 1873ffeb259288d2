"""Class 2 of the hostile-input review: every failure the CLI meets is one line and exit 2.

Roots: (1) every numeric option is parsed by a bounded type (checked here for all verbs at once);
(2) usage mistakes print one line; (3) verbs that feed a model a data set check its image shape
first; (4) anything unexpected reaches a last-resort handler that prints one plain line naming
the files involved and pointing at --debug.
"""
import argparse

import pytest

from helpers import one_line, run_cli, train_tiny_run
from vaestudio import cli
from vaestudio.cli import main
from vaestudio.core.errors import plain_message


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return train_tiny_run(tmp_path_factory)


def _numeric_options():
    """(verb, option string, bounds) for every int/float option of every verb."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for verb, p in sub.choices.items():
        for action in p._actions:
            if not action.option_strings or action.type is None:
                continue
            found.append((verb, action.option_strings[-1], action.type))
    return found


NUMERIC = _numeric_options()


def test_every_numeric_option_of_every_verb_is_bounded():
    assert len(NUMERIC) > 30  # the walk found the options (train, sample, lattice, ...)
    raw = [(verb, opt) for verb, opt, typ in NUMERIC if typ in (int, float)]
    assert raw == [], f"options parsed without bounds: {raw}"


@pytest.mark.parametrize("verb,option,typ", [n for n in NUMERIC if hasattr(n[2], "bounds")],
                         ids=[f"{v}{o}" for v, o, t in NUMERIC if hasattr(t, "bounds")])
def test_out_of_range_and_non_finite_values_are_refused_in_one_line(verb, option, typ, capsys):
    lo, hi = typ.bounds
    for bad in (str(lo - 1), str(hi * 10 + 1), "nan", "1e999", "-inf", "12abc"):
        with pytest.raises(argparse.ArgumentTypeError):
            typ(bad)
    # and through the whole command line: one line naming the option, exit 2
    argv = [verb, "RUN", option, "nan"] if verb not in ("train", "datasets", "screenshot") else [verb, option, "nan"]
    rc, err = run_cli(argv + (["--out", "x"] if verb in ("train", "screenshot") else []), capsys)
    one_line(rc, err, option)


def test_reported_cases(tiny_run, tmp_path, capsys):
    """The review's examples: --threads -1, --hidden 100000000, --fps 0, --batch-size -1."""
    one_line(*run_cli(["train", "--threads", "-1", "--out", str(tmp_path / "a")], capsys), "--threads")
    one_line(*run_cli(["train", "--hidden", "100000000", "--out", str(tmp_path / "a")], capsys), "--hidden")
    one_line(*run_cli(["interpolate", str(tiny_run), "--from", "0", "--to", "1", "--fps", "0",
                       "--out", str(tmp_path / "a.gif")], capsys), "--fps")
    one_line(*run_cli(["encode", str(tiny_run), "--batch-size", "-1", "--out", str(tmp_path / "e.npz")], capsys),
             "--batch-size")
    assert not (tmp_path / "a").exists() and not (tmp_path / "e.npz").exists()


@pytest.mark.parametrize("verb", ["evaluate", "encode", "lattice", "scatter", "interpolate"])
def test_a_data_set_of_another_image_shape_is_refused_before_the_model_sees_it(verb, tiny_run, tmp_path, capsys):
    """An MNIST model on `faces` used to end in "mat1 and mat2 shapes cannot be multiplied"."""
    extra = {"evaluate": [], "encode": ["--out", str(tmp_path / "e.npz")],
             "lattice": ["--out", str(tmp_path / "l.png")], "scatter": ["--out", str(tmp_path / "s.png")],
             "interpolate": ["--from", "0", "--to", "1", "--out", str(tmp_path / "i.gif")]}[verb]
    rc, err = run_cli([verb, str(tiny_run), "--dataset", "faces", "--data-option", "n=200", *extra], capsys)
    line = one_line(rc, err, "faces", "3x64x64", "1x28x28")
    assert "mat1" not in line and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exc", [TypeError("unsupported operand type(s) for +: 'int' and 'str'"), KeyError("history"),
                                 ZeroDivisionError("division by zero"), OverflowError("int too large"),
                                 RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"),
                                 MemoryError(), IndexError("index 7 is out of bounds")])
def test_anything_unexpected_is_one_plain_line_naming_the_files(exc, tiny_run, tmp_path, capsys, monkeypatch):
    from vaestudio.verbs import sample

    def boom(args):
        raise exc

    monkeypatch.setattr(sample, "run", boom)
    out = tmp_path / "s.png"
    rc, err = run_cli(["sample", str(tiny_run), "--out", str(out)], capsys)
    line = one_line(rc, err, str(tiny_run), str(out), "--debug")
    assert type(exc).__name__ not in line
    with pytest.raises(type(exc)):  # --debug shows the real thing
        main(["--debug", "sample", str(tiny_run), "--out", str(out)])


def test_a_full_disk_during_a_checkpoint_write_is_one_line(tiny_run, tmp_path, capsys, monkeypatch):
    import torch

    def full(obj, f, *a, **k):
        f.write(b"partial")
        raise RuntimeError("[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file "
                           "data/3: file write failed")

    monkeypatch.setattr(torch, "save", full)
    before = (tiny_run / "model.pt").read_bytes()
    rc, err = run_cli(["train", "--resume", "--epochs", "2", "--out", str(tiny_run)], capsys)
    one_line(rc, err, "model.pt", progress_before=True)
    assert (tiny_run / "model.pt").read_bytes() == before  # the last good checkpoint is untouched
    assert not [p for p in tiny_run.iterdir() if ".tmp" in p.name]


def test_plain_messages_never_name_an_exception_class():
    assert plain_message(MemoryError()) == "ran out of memory"
    assert plain_message(FileNotFoundError(2, "No such file or directory", "/x/y.pt")) == \
        "/x/y.pt: no such file or directory"
    assert plain_message(KeyError("history")) == "'history'"
    assert plain_message(ValueError("")) == "an unexpected internal error"
    assert "\n" not in plain_message(RuntimeError("one\ntwo"))


def test_window_dialog_text_has_no_exception_class_names():
    from vaestudio.gui.workers import describe_exception

    try:
        [][3]
    except IndexError as e:
        message, details = describe_exception(e)
    assert "IndexError" not in message and message == "list index out of range"
    assert "IndexError" in details  # the traceback stays available under "details"
