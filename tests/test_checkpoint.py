import os
import pickle

import pytest
import torch

from helpers import blob_dataset
from vaestudio.core.checkpoint import resolve_checkpoint_path
from vaestudio.core.config import TrainConfig
from vaestudio.core.data.base import DatasetSpec
from vaestudio.core.errors import CheckpointError
from vaestudio.core.kinds import make_model_config
from vaestudio.core.run import Run
from vaestudio.core.training import Trainer

load_checkpoint = Run.load


@pytest.fixture
def trained(tmp_path):
    run = Run.new(make_model_config(kind="vae", arch="conv", image_shape=(1, 12, 12), latent_dim=3, conv_width=4),
                  TrainConfig(epochs=1, batch_size=20, device="cpu"))
    ds = blob_dataset(100)
    ds.spec = DatasetSpec("digits", None, {"n_train": 100})
    Trainer(run, ds).train()
    path = run.save(tmp_path / "run" / "model.pt")
    return run.model, path


def test_round_trip_restores_everything(trained):
    model, path = trained
    ck = load_checkpoint(path.parent)  # a run folder works as well as the file
    assert ck.path == path
    assert ck.model_config == model.config
    assert ck.train_config.batch_size == 20
    assert ck.dataset_spec == DatasetSpec("digits", None, {"n_train": 100})
    assert ck.epochs_done == 1 and len(ck.history) == 1 and ck.curve
    assert ck.datasets() == [{"name": "digits", "root": None, "options": {"n_train": 100}, "start_epoch": 0,
                              "epochs": 1}]
    assert set(ck.optimizer_states) == {"adam"} and "state" in ck.optimizer_states["adam"]
    for (k, a), (k2, b) in zip(model.state_dict().items(), ck.model.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    assert not ck.model.training


def test_save_is_atomic_and_leaves_no_temp_files(trained):
    model, path = trained
    before = path.read_bytes()
    run = Run.load(path)
    run.set_target(2)
    run.save(path)
    assert path.read_bytes() != before
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]


def test_missing_and_folder_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="no model.pt"):
        resolve_checkpoint_path(tmp_path)


def test_truncated_file_is_refused(trained, tmp_path):
    _, path = trained
    bad = tmp_path / "cut.pt"
    bad.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt: is truncated or not a VAE Studio checkpoint"):
        load_checkpoint(bad)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(empty)


def test_text_file_is_refused(tmp_path):
    p = tmp_path / "notes.pt"
    p.write_text("hello, this is not a checkpoint\n")
    with pytest.raises(CheckpointError, match="notes.pt"):
        load_checkpoint(p)


def test_other_torch_file_is_refused(tmp_path):
    p = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(2)}, p)
    with pytest.raises(CheckpointError, match="not a VAE Studio checkpoint"):
        load_checkpoint(p)


class Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("legacy", [False, True])
def test_pickle_carrying_code_is_refused_and_not_run(tmp_path, monkeypatch, legacy):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "evil.pt"
    if legacy:
        with open(p, "wb") as f:
            pickle.dump({"format": "vaestudio-checkpoint", "x": Evil()}, f)
    else:
        torch.save({"format": "vaestudio-checkpoint", "x": Evil()}, p)
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(p)
    assert not (tmp_path / "PWNED").exists()


def test_weights_that_do_not_fit_the_config_are_refused(trained, tmp_path):
    model, path = trained
    data = torch.load(path, weights_only=True)
    data["model_config"]["latent_dim"] = 9
    bad = tmp_path / "mismatch.pt"
    torch.save(data, bad)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(bad)
    data["model_config"]["kind"] = "gan"
    torch.save(data, bad)
    with pytest.raises(CheckpointError, match="invalid settings"):
        load_checkpoint(bad)


def test_a_format_1_checkpoint_opens_as_a_run(trained, tmp_path):
    """VAE Studio 0.1 wrote one optimiser, an integer epoch and the data set open at save time."""
    model, path = trained
    data = torch.load(path, weights_only=True)
    old = {"format": "vaestudio-checkpoint", "version": 1,
           "model_config": {**data["model_config"]}, "train_config": {**data["train_config"], "epochs": 1},
           "dataset": {"name": "digits", "root": None, "options": {"n_train": 100}},
           "state_dict": data["state_dict"], "optimizer": data["optimizers"]["adam"],
           "history": data["history"], "epoch": 1, "extra": {}}
    v1 = tmp_path / "v1.pt"
    torch.save(old, v1)
    run = load_checkpoint(v1)
    assert run.epochs_done == 1 and run.kind.name == "vae" and set(run.optimizer_states) == {"adam"}
    assert run.datasets()[0]["name"] == "digits" and run.datasets()[0]["epochs"] == 1
    old["model_config"] = {**old["model_config"], "kind": "ae", "beta": 1.0, "kl_warmup_epochs": 0}
    old["state_dict"] = {}
    torch.save(old, v1)
    with pytest.raises(CheckpointError, match="do not fit"):  # the AE has other weights; settings parse
        load_checkpoint(v1)


@pytest.mark.parametrize("field,value,message", [
    ("history", 7, "history should be a list"),
    ("history", [1, 2], "history entry should be a dict"),
    ("optimizers", {"adam": "x"}, "optimiser 'adam' should be a dict"),
    ("progress", {"epoch": -3}, "progress field 'epoch'"),
    ("progress", {"epoch": 1, "step": 5, "steps_per_epoch": 10}, "lacks the state to continue"),
    ("datasets", "digits", "data set list should be a list"),
    ("model_config", [1], "model settings should be a dict"),
])
def test_damaged_fields_get_one_clear_line(trained, tmp_path, field, value, message):
    _, path = trained
    data = torch.load(path, weights_only=True)
    data[field] = value
    bad = tmp_path / "damaged.pt"
    torch.save(data, bad)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(bad)
