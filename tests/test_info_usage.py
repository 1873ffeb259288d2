"""`vaestudio info` shows the latent usage stored in run.extra["usage"] (checked field by field:
a malformed record is named and ignored, never a traceback), and `info --usage` measures it now
on the run's data set."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import run_cli, train_tiny_run
from vaestudio.core.run import Run
from vaestudio.core.usage_record import check_usage_record, describe_usage, usage_record

D = 3


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_tiny_run(tmp_path_factory, 300, 60, "--latent-dim", str(D))


def with_record(run_dir, tmp_path, record):
    run = Run.load(run_dir)
    run.extra["usage"] = record
    return str(run.save(tmp_path / "r"))


def good(**change):
    rec = {"epoch": 1.0, "split": "validation", "dataset": "mnist", "n": 60, "active_units": 2,
           "active_dims": [0, 2], "kl_per_dim": [1.5, 0.001, 2.25]}
    rec.update(change)
    return rec


def test_info_text_and_json(run_dir, tmp_path, capsys):
    path = with_record(run_dir, tmp_path, good())
    capsys.readouterr()
    from vaestudio.cli import main

    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    line = [ln for ln in out.splitlines() if ln.startswith("latent usage")]
    assert line == ["latent usage at epoch 1 (mnist, validation, 60 images): 2 of 3 dimensions active; "
                    "KL per dimension (nats): 1.50 0.00 2.25"]
    assert main(["info", path, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["usage"]["active_dims"] == [0, 2] and info["usage"]["kl_per_dim"] == [1.5, 0.001, 2.25]
    assert main(["info", str(run_dir)]) == 0
    assert "latent usage" not in capsys.readouterr().out


@pytest.mark.parametrize("record, reason", [
    ("lots", "str, not a record"),
    (good(kl_per_dim=[1.0, 2.0]), "2 dimensions but the model's latent has 3"),
    (good(kl_per_dim=[1.0, float("nan"), 2.0]), "kl_per_dim"),
    (good(kl_per_dim=[1.0, -1.0, 2.0]), "kl_per_dim"),
    (good(kl_per_dim=[1.0] * 5000), "kl_per_dim"),
    (good(kl_per_dim="1 2 3"), "kl_per_dim"),
    (good(active_dims=[0, 7]), "active_dims"),
    (good(active_dims=[0, 0]), "active_dims"),
    (good(active_dims=[True, 2]), "active_dims"),
    (good(active_units=5), "active_units"),
    (good(epoch="3"), "epoch"),
    (good(epoch=float("inf")), "epoch"),
    (good(n=-4), "n must"),
    (good(split=["validation"]), "split must be text"),
])
def test_a_malformed_record_is_named_and_ignored(run_dir, tmp_path, capsys, record, reason):
    path = with_record(run_dir, tmp_path, record)
    capsys.readouterr()
    from vaestudio.cli import main

    assert main(["info", path]) == 0
    captured = capsys.readouterr()
    lines = [ln for ln in captured.out.splitlines() if ln.startswith("latent usage")]
    assert len(lines) == 1 and "was ignored" in lines[0] and reason in lines[0], lines
    assert path in lines[0]
    assert "Traceback" not in captured.err
    assert main(["info", path, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["usage"] is None and reason in info["usage_note"]


def test_info_usage_measures_now_on_the_runs_data(run_dir, capsys):
    from vaestudio.cli import main

    capsys.readouterr()
    assert main(["info", str(run_dir), "--usage", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    usage = info["usage"]
    assert len(usage["kl_per_dim"]) == D and usage["epoch"] == 1.0
    # the same numbers as core.metrics.latent_usage on that split of the run's data set
    from vaestudio.core.metrics import latent_usage

    run = Run.load(run_dir)
    import argparse

    from vaestudio.verbs.data_args import dataset_from_args

    ds = dataset_from_args(argparse.Namespace(dataset=None, data_root=None, download=False, data_option=[]),
                           default_spec=run.dataset_spec)
    images = ds.split(usage["split"]).images
    assert usage["n"] == len(images) > 0
    expected = latent_usage(run.model, images)
    np.testing.assert_allclose(usage["kl_per_dim"], expected["kl_per_dim"], rtol=1e-9)
    assert usage["active_dims"] == expected["active_dims"]
    assert main(["info", str(run_dir), "--usage"]) == 0
    out = capsys.readouterr().out
    assert f"latent usage at epoch 1 ({ds.name}" in out and f"{expected['active_units']} of {D} dimensions active" in out


def test_record_round_trip_and_collapse_note():
    rec = usage_record({"kl_per_dim": [0.0, 0.0, 0.0, 3.0], "active_units": 1, "active_dims": [3]},
                       epoch=2, split="test", dataset="digits", n=10)
    checked, problem = check_usage_record(json.loads(json.dumps(rec)), 4)
    assert problem is None and checked == rec
    text = describe_usage(checked, epochs_done=5)
    assert "1 of 4 dimensions active" in text and "posterior collapse" in text
    assert "[measured before the model trained on to epoch 5]" in text


def test_info_usage_on_an_autoencoder_says_why_not(tmp_path_factory, capsys):
    from vaestudio.cli import main

    ae = train_tiny_run(tmp_path_factory, 200, 40, "--model", "ae", "--latent-dim", "2")
    capsys.readouterr()
    assert main(["info", str(ae), "--usage"]) == 0
    out = capsys.readouterr().out
    assert "latent usage: not measured" in out and "no posterior" in out
    assert main(["info", str(ae), "--usage", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["usage"] is None and "not measured" in info["usage_note"]


def test_info_usage_refuses_a_data_set_of_another_shape(run_dir, capsys):
    rc, err = run_cli(["info", str(run_dir), "--usage", "--dataset", "faces", "--data-option", "n=50"], capsys)
    assert rc == 2 and len(err) == 1 and "Traceback" not in err[0] and "takes 1x28x28" in err[0]
