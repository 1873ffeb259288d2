"""Tables users expect: latent codes as CSV or NPY (core, `vaestudio encode`, the window), the loss
history as CSV (core, `vaestudio info --history-csv`, the window) and the lattice sites from the
window's Export menu."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from helpers import one_line, run_cli, train_tiny_run
from test_explore_support import explore_window
from vaestudio.core.errors import ConfigError
from vaestudio.core.history_table import write_history_csv
from vaestudio.core.latent import Encodings


def read_csv(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def sample_encodings(n: int = 40) -> Encodings:
    rng = np.random.default_rng(0)
    return Encodings(codes=(rng.normal(size=(n, 3)) * 1e-3 + rng.normal(size=(n, 3))).astype(np.float32),
                     labels=np.arange(n) % 4, label_names=["zero", "one, two", 'say "three"'],
                     attributes=rng.integers(0, 2, (n, 2)).astype(np.uint8),
                     attribute_names=["Blond_Hair", "Male"], split="test")


# ============================================================================ codes: core

def test_codes_csv_round_trips_with_labels_names_and_attributes(tmp_path):
    enc = sample_encodings()
    path = tmp_path / "codes.csv"
    enc.save(path)
    header, rows = read_csv(path)
    assert header == ["z0", "z1", "z2", "label", "label_name", "Blond_Hair", "Male"]
    assert len(rows) == len(enc)
    z = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2), dtype=np.float64)
    np.testing.assert_array_equal(z.astype(np.float32), enc.codes)  # float32 values exactly
    assert [int(r[3]) for r in rows] == enc.labels.tolist()
    # Names with a comma or quotes stay one field; label 3 has no name and gets an empty one.
    assert [r[4] for r in rows[:4]] == ["zero", "one, two", 'say "three"', ""]
    np.testing.assert_array_equal(np.array([[int(r[5]), int(r[6])] for r in rows]), enc.attributes)


def test_codes_csv_without_labels_is_just_the_codes(tmp_path):
    codes = np.random.default_rng(1).normal(size=(5000, 4)).astype(np.float32)  # more than one chunk
    path = tmp_path / "c.csv"
    Encodings(codes=codes).save(path)
    assert path.read_text().splitlines()[0] == "z0,z1,z2,z3"
    np.testing.assert_array_equal(np.loadtxt(path, delimiter=",", skiprows=1).astype(np.float32), codes)


def test_codes_npy_is_the_float32_codes(tmp_path):
    enc = sample_encodings()
    enc.codes = enc.codes.astype(np.float64)  # whatever the codes were, the file holds float32
    enc.save(tmp_path / "codes.npy")
    z = np.load(tmp_path / "codes.npy")
    assert z.dtype == np.float32 and z.shape == (40, 3)
    np.testing.assert_array_equal(z, enc.codes.astype(np.float32))
    enc.save(tmp_path / "codes.npz")  # the .npz keeps working
    assert Encodings.load(tmp_path / "codes.npz").label_names == enc.label_names


def test_an_unknown_suffix_is_refused_naming_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"codes\.txt: cannot write encodings as \.txt: use \.npz, \.csv, \.npy"):
        sample_encodings().save(tmp_path / "codes.txt")
    assert not (tmp_path / "codes.txt").exists()


# ============================================================================ history: core

def test_history_csv_has_one_row_per_epoch_with_the_records_values(tmp_path):
    history = [
        {"epoch": 1, "dataset": 0, "train_loss": 10.5, "val_loss": None, "lr": 1e-3, "samples_per_s": 1234.5,
         "seconds": 0.25},
        {"epoch": 2, "dataset": 1, "train_loss": 0.1 + 0.2, "val_loss": 9.0, "lr": 1e-3, "samples_per_s": 99.0,
         "seconds": 0.5, "kl_weight": 0.5},
    ]
    path = tmp_path / "h.csv"
    assert write_history_csv(path, history, ["digits", "faces"]) == 2
    header, rows = read_csv(path)
    assert header == ["epoch", "dataset", "dataset_name", "train_loss", "val_loss", "lr", "samples_per_s", "seconds",
                      "kl_weight"]
    assert rows[0] == ["1", "0", "digits", "10.5", "", "0.001", "1234.5", "0.25", ""]
    assert rows[1][2] == "faces" and float(rows[1][3]) == 0.1 + 0.2  # exact float text
    assert rows[1][-1] == "0.5"


@pytest.fixture(scope="module")
def run2(tmp_path_factory):
    return str(train_tiny_run(tmp_path_factory, 300, 60, "--epochs", "2", "--latent-dim", "3"))


def test_cli_info_writes_the_runs_history(run2, tmp_path, capsys):
    from vaestudio.cli import main
    from vaestudio.core.run import Run

    path = tmp_path / "history.csv"
    assert main(["info", run2, "--json", "--history-csv", str(path)]) == 0
    out = capsys.readouterr()
    json.loads(out.out)  # stdout stays one JSON object; the note goes to stderr
    assert "2 epoch records" in out.err
    run = Run.load(run2)
    header, rows = read_csv(path)
    assert len(rows) == len(run.history) == 2
    assert header[:3] == ["epoch", "dataset", "dataset_name"]
    for row, record in zip(rows, run.history):
        values = dict(zip(header, row))
        assert int(values["epoch"]) == record["epoch"] and values["dataset_name"] == "mnist"
        for key in ("train_loss", "val_loss", "seconds", "samples_per_s"):
            if key in record:
                assert float(values[key]) == record[key]
    assert any(k.startswith("val_") for k in header) and "seconds" in header


def test_cli_encode_writes_csv_and_npy(run2, tmp_path, capsys):
    from vaestudio.cli import main

    npz, table, arr = tmp_path / "c.npz", tmp_path / "c.csv", tmp_path / "c.npy"
    for out in (npz, table, arr):
        assert main(["encode", run2, "--out", str(out)]) == 0
    ref = Encodings.load(npz)
    header, rows = read_csv(table)
    assert header == ["z0", "z1", "z2", "label", "label_name"] and len(rows) == len(ref) == 60
    np.testing.assert_array_equal(np.loadtxt(table, delimiter=",", skiprows=1, usecols=(0, 1, 2)).astype(np.float32),
                                  ref.codes)
    assert [int(r[3]) for r in rows] == ref.labels.tolist()
    np.testing.assert_array_equal(np.load(arr), ref.codes)


@pytest.mark.parametrize("argv, names", [
    (["encode", "RUN", "--out", "x.txt"], ["--out", ".txt", ".npz, .csv, .npy"]),
    (["encode", "RUN", "--out", "codes"], ["--out", "a name without a suffix"]),
    (["info", "RUN", "--history-csv", "x.json"], ["--history-csv", ".csv"]),
])
def test_bad_table_names_are_one_line(run2, tmp_path, capsys, argv, names):
    argv = [run2 if a == "RUN" else (str(tmp_path / a) if a.startswith("x.") else a) for a in argv]
    one_line(*run_cli(argv, capsys), *names)
    assert list(tmp_path.iterdir()) == []


# ============================================================================ the window

@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    yield from explore_window(qtbot, tmp_path, monkeypatch, latent_dim=3)


def export_to(qtbot, tools, monkeypatch, key, path):
    from vaestudio.gui import dialogs

    asked = []
    monkeypatch.setattr(dialogs, "choose_save_file", lambda parent, title, suggested, filter_=None:
                        asked.append((suggested, filter_)) or str(path))
    with qtbot.waitSignal(tools.export.exported, timeout=10_000) as blocker:
        tools.export.actions[key].trigger()
    qtbot.waitUntil(lambda: not tools.export.busy, timeout=5000)
    assert blocker.args[0] == str(path)
    return asked[0]


def test_export_menu_writes_codes_as_csv_and_npy(qtbot, window, tmp_path, monkeypatch):
    tools = window.explore
    names = [a.text() for a in window.export_menu.actions()]
    assert {"Latent &Codes (CSV/NPY)…", "Loss &History (CSV)…", "Lattice Si&tes (CSV)…"} <= set(names)
    enc = tools.explorer.encodings
    suggested, filter_ = export_to(qtbot, tools, monkeypatch, "codes", tmp_path / "codes.csv")
    assert suggested.endswith(".csv") and "*.npy" in filter_
    header, rows = read_csv(tmp_path / "codes.csv")
    assert header == ["z0", "z1", "z2", "label", "label_name"] and len(rows) == len(enc)
    assert [r[4] for r in rows[:5]] == [enc.label_names[k] for k in enc.labels[:5]]
    export_to(qtbot, tools, monkeypatch, "codes", tmp_path / "codes.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "codes.npy"), enc.codes)


def test_export_menu_writes_the_lattice_sites(qtbot, window, tmp_path, monkeypatch):
    tools = window.explore
    tools.lattice.n_spin.setValue(4)
    tools.lattice.extent_combo.setCurrentIndex(tools.lattice.extent_combo.findData("circumscribed"))
    export_to(qtbot, tools, monkeypatch, "sites", tmp_path / "sites.csv")
    table = np.loadtxt(tmp_path / "sites.csv", delimiter=",", skiprows=1)
    lat = tools.lattice.lattice
    assert table.shape == (16, 4 + 3) and lat.extent == "circumscribed"
    np.testing.assert_array_equal(table[:, 4:].astype(np.float32), lat.latents)


def test_export_menu_writes_the_loss_history(qtbot, window, tmp_path, monkeypatch):
    tools = window.explore
    assert not tools.export.export_history(str(tmp_path / "none.csv"))  # nothing trained yet
    assert "no finished epoch" in window.statusBar().currentMessage() and not (tmp_path / "none.csv").exists()
    run = window.session.run
    run.history[:] = [{"epoch": k, "dataset": 0, "train_loss": 100.0 / k, "val_loss": 90.0 / k, "seconds": 0.5 * k}
                      for k in (1, 2, 3)]
    export_to(qtbot, tools, monkeypatch, "history", tmp_path / "h.csv")
    header, rows = read_csv(tmp_path / "h.csv")
    assert len(rows) == 3 and header[0] == "epoch"
    assert [float(dict(zip(header, r))["train_loss"]) for r in rows] == [100.0, 50.0, 100.0 / 3]


def test_choose_save_file_adds_the_chosen_filters_suffix(monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from vaestudio.gui import dialogs

    answers = iter([("/x/codes", "NumPy arrays (*.npy)"), ("/x/codes.csv", "NumPy arrays (*.npy)"),
                    ("/x/t", "CSV tables (*.csv)"), ("", "")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: next(answers))
    got = [dialogs.choose_save_file(None, "t", "s", dialogs.CODES_FILTER) for _ in range(4)]
    assert got == ["/x/codes.npy", "/x/codes.csv", "/x/t.csv", ""]
