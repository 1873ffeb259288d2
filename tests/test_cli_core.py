"""`vaestudio train / evaluate / sample` end to end on MNIST-format files the test writes."""
import json
import subprocess
import sys

import pytest
from PIL import Image

from helpers import write_mnist_folder
from vaestudio.cli import main


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_mnist_folder(root, n_train=1200, n_test=200)
    return root


@pytest.fixture(scope="module")
def trained_run(mnist_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae"
    rc = main(["train", "--dataset", "mnist", "--data-root", str(mnist_root), "--model", "vae", "--arch", "mlp",
               "--latent-dim", "2", "--hidden", "64", "--epochs", "2", "--batch-size", "64", "--lr", "3e-3",
               "--seed", "1", "--device", "cpu", "--out", str(out)])
    assert rc == 0
    return out


def test_train_writes_checkpoint_and_metrics(trained_run):
    assert (trained_run / "model.pt").is_file()
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["status"] == "finished" and metrics["epochs"] == 2
    assert len(metrics["history"]) == 2 and metrics["samples_per_s"] > 0
    assert metrics["history"][1]["train_loss"] < metrics["history"][0]["train_loss"]
    assert metrics["dataset"]["name"] == "mnist"


def test_resume_continues_to_the_total(trained_run, mnist_root, tmp_path):
    import shutil
    run = tmp_path / "resumed"
    shutil.copytree(trained_run, run)
    assert main(["train", "--dataset", "mnist", "--data-root", str(mnist_root), "--epochs", "3",
                 "--batch-size", "64", "--lr", "3e-3", "--seed", "1", "--device", "cpu", "--out", str(run),
                 "--resume"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and [h["epoch"] for h in metrics["history"]] == [1, 2, 3]


def test_train_refuses_to_overwrite_without_resume(trained_run, mnist_root, capsys):
    rc = main(["train", "--dataset", "mnist", "--data-root", str(mnist_root), "--epochs", "1", "--out", str(trained_run)])
    assert rc == 2
    assert "exists; pass --resume" in capsys.readouterr().err


def test_evaluate_json_uses_the_training_dataset_by_default(trained_run, capsys):
    assert main(["evaluate", str(trained_run), "--split", "test", "--iw-samples", "20", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res) >= {"neg_elbo", "recon", "kl", "nll_iw"}
    assert res["n"] == 200 and res["dataset"] == "mnist"
    assert res["neg_elbo"] == pytest.approx(res["recon"] + res["kl"], rel=1e-5)
    assert res["nll_iw"] <= res["neg_elbo"] + 1.0


def test_sample_writes_a_grid(trained_run, tmp_path):
    out = tmp_path / "samples.png"
    assert main(["sample", str(trained_run / "model.pt"), "--n", "16", "--out", str(out)]) == 0
    img = Image.open(out)
    assert img.width > 4 * 28 and img.height > 4 * 28


def test_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02garbage")
    out = subprocess.run([sys.executable, "-m", "vaestudio", "evaluate", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.pt" in lines[0] and "Traceback" not in out.stderr
    debug = subprocess.run([sys.executable, "-m", "vaestudio", "--debug", "evaluate", str(bad)],
                           capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_missing_mnist_files_say_where_to_put_them(tmp_path):
    out = subprocess.run([sys.executable, "-m", "vaestudio", "train", "--dataset", "mnist", "--data-root",
                          str(tmp_path), "--epochs", "1", "--out", str(tmp_path / "r")], capture_output=True, text=True)
    assert out.returncode == 2
    assert "train-images-idx3-ubyte" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("verb", ["train", "evaluate", "sample"])
def test_every_verb_has_help(verb):
    out = subprocess.run([sys.executable, "-m", "vaestudio", verb, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage: vaestudio " + verb in out.stdout
