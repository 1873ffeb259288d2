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


def test_resume_continues_to_the_total_with_the_runs_own_settings(trained_run, tmp_path, capsys):
    import shutil
    run = tmp_path / "resumed"
    shutil.copytree(trained_run, run)
    # no data or training flags: all of them come from the run (its batch size 64, not the default 128)
    assert main(["train", "--epochs", "3", "--device", "cpu", "--out", str(run), "--resume"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and [h["epoch"] for h in metrics["history"]] == [1, 2, 3]
    assert metrics["train"]["batch_size"] == 64 and metrics["train"]["lr"] == 3e-3
    assert metrics["datasets"][0]["name"] == "mnist" and metrics["datasets"][0]["epochs"] == 3


@pytest.mark.parametrize("flags,named", [
    (["--batch-size", "128"], "--batch-size 128 (the run has 64)"),
    (["--latent-dim", "5"], "--latent-dim 5 (the run has 2)"),
    (["--model", "ae"], "--model ae (the run is vae)"),
    (["--seed", "9"], "--seed 9 (the run has 1)"),
])
def test_resume_refuses_flags_that_contradict_the_run(trained_run, tmp_path, capsys, flags, named):
    import shutil
    run = tmp_path / "r"
    shutil.copytree(trained_run, run)
    before = (run / "model.pt").read_bytes()
    assert main(["train", "--epochs", "3", "--out", str(run), "--resume", *flags]) == 2
    err = capsys.readouterr().err
    assert named in err and "--resume takes the run's own settings" in err and len(err.strip().splitlines()) == 1
    assert (run / "model.pt").read_bytes() == before


def test_resume_with_a_new_learning_rate_applies_and_records_it(trained_run, tmp_path, capsys):
    import shutil
    run = tmp_path / "lr"
    shutil.copytree(trained_run, run)
    assert main(["train", "--epochs", "3", "--lr", "1e-4", "--device", "cpu", "--out", str(run), "--resume"]) == 0
    assert "learning rate 0.003 -> 0.0001 from epoch 3 on" in capsys.readouterr().err
    from vaestudio.core.run import Run
    r = Run.load(run)
    assert r.train_config.lr == 1e-4
    assert [h["lr"] for h in r.history] == [3e-3, 3e-3, 1e-4]
    assert r.optimizer_states["adam"]["param_groups"][0]["lr"] == 1e-4


def test_resume_on_another_data_set_needs_the_flag(trained_run, tmp_path, capsys):
    import shutil
    run = tmp_path / "switch"
    shutil.copytree(trained_run, run)
    other = tmp_path / "other"
    write_mnist_folder(other, n_train=600, n_test=100, seed=4)
    args = ["train", "--epochs", "3", "--dataset", "mnist", "--data-root", str(other), "--device", "cpu",
            "--out", str(run), "--resume"]
    assert main(args) == 2
    assert "pass --switch-dataset" in capsys.readouterr().err
    assert main(args + ["--switch-dataset"]) == 0
    info = json.loads(_info_json(run, capsys))
    assert [d["root"] for d in info["datasets"]] == [info["datasets"][0]["root"], str(other)]
    assert [d["epochs"] for d in info["datasets"]] == [2, 1]


def _info_json(run, capsys) -> str:
    capsys.readouterr()
    assert main(["info", str(run), "--json"]) == 0
    return capsys.readouterr().out


def test_info_says_what_a_run_is(trained_run, capsys):
    info = json.loads(_info_json(trained_run, capsys))
    assert info["kind"] == "vae" and info["arch"] == "mlp" and info["epochs_done"] == 2
    assert info["target_epochs"] == 2 and info["loss_terms"] == ["loss", "recon", "kl"]
    assert info["datasets"][0]["name"] == "mnist" and info["datasets"][0]["epochs"] == 2
    assert info["train_config"]["batch_size"] == 64 and info["train_config"]["seed"] == 1
    assert info["history_entries"] == 2
    assert main(["info", str(trained_run)]) == 0
    text = capsys.readouterr().out
    assert "epochs: 2 of 2 (finished)" in text and "mnist" in text and "batch 64" in text


def test_an_autoencoder_reports_reconstruction_only(mnist_root, tmp_path, capsys):
    out = tmp_path / "ae"
    assert main(["train", "--dataset", "mnist", "--data-root", str(mnist_root), "--model", "ae", "--hidden", "32",
                 "--epochs", "1", "--batch-size", "100", "--device", "cpu", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert "recon" in res and "neg_elbo" not in res and "kl" not in res
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["loss_terms"] == ["loss", "recon"] and "train_kl" not in metrics["history"][0]
    assert main(["sample", str(out), "--out", str(tmp_path / "s.png")]) == 2
    assert "an autoencoder has no prior to sample from" in capsys.readouterr().err
    assert main(["train", "--dataset", "mnist", "--data-root", str(mnist_root), "--model", "ae", "--beta", "2",
                 "--out", str(tmp_path / "ae2")]) == 2
    err = capsys.readouterr().err
    assert "--beta is a setting of " in err and "vae" in err and "not of ae" in err


def test_ctrl_c_mid_epoch_then_resume_gives_the_uninterrupted_weights(mnist_root, tmp_path):
    """SIGINT in the middle of epoch 2 saves exactly where it stopped; --resume then ends bitwise
    equal to a run that was never interrupted."""
    import signal
    import time

    import torch

    from vaestudio.core.run import Run

    common = ["--dataset", "mnist", "--data-root", str(mnist_root), "--hidden", "64", "--epochs", "3",
              "--batch-size", "10", "--seed", "2", "--device", "cpu", "--threads", "1"]
    straight = tmp_path / "straight"
    assert main(["train", *common, "--out", str(straight)]) == 0

    stopped = tmp_path / "stopped"
    # the same CLI, with every step slowed to 10 ms so the signal surely lands inside epoch 2
    slow = ("import sys, time\n"
            "from vaestudio.core.kinds.base import ModelKind\n"
            "step = ModelKind.train_step\n"
            "ModelKind.train_step = lambda *a, **k: (time.sleep(0.01), step(*a, **k))[1]\n"
            "from vaestudio.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    child = subprocess.Popen([sys.executable, "-c", slow, "train", *common, "--out", str(stopped)],
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and not (stopped / "model.pt").exists():  # epoch 1 written
        time.sleep(0.05)
    time.sleep(0.3)  # well inside epoch 2 (100 steps of at least 10 ms)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "Traceback" not in err and "--resume` continues it" in err
    mid = Run.load(stopped)
    assert mid.progress.epoch == 1 and 0 < mid.progress.step < mid.progress.steps_per_epoch
    assert 1 < mid.epochs_done < 2 and len(mid.history) == 1
    assert main(["train", "--out", str(stopped), "--resume", "--device", "cpu", "--threads", "1"]) == 0
    a, b = Run.load(straight), Run.load(stopped)
    assert b.epochs_done == 3
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]


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


@pytest.mark.parametrize("verb", ["train", "info", "evaluate", "sample"])
def test_every_verb_has_help(verb):
    out = subprocess.run([sys.executable, "-m", "vaestudio", verb, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage: vaestudio " + verb in out.stdout
