import os
import pickle

import pytest
import torch

from helpers import blob_dataset
from vaestudio.core.checkpoint import load_checkpoint, resolve_checkpoint_path, save_checkpoint
from vaestudio.core.config import ModelConfig, TrainConfig
from vaestudio.core.data.base import DatasetSpec
from vaestudio.core.errors import CheckpointError
from vaestudio.core.models import build_model
from vaestudio.core.training import Trainer


@pytest.fixture
def trained(tmp_path):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vae", arch="conv", image_shape=(1, 12, 12), latent_dim=3, conv_width=4))
    ds = blob_dataset(100)
    tcfg = TrainConfig(epochs=1, batch_size=20, device="cpu")
    tr = Trainer(model, ds, tcfg)
    tr.run()
    path = save_checkpoint(tmp_path / "run" / "model.pt", model, train_config=tcfg,
                           dataset_spec=DatasetSpec("digits", None, {"n_train": 100}),
                           optimizer=tr.optimizer, history=tr.history, epoch=1)
    return model, path


def test_round_trip_restores_everything(trained):
    model, path = trained
    ck = load_checkpoint(path.parent)  # a run folder works as well as the file
    assert ck.path == path
    assert ck.model_config == model.config
    assert ck.train_config.batch_size == 20
    assert ck.dataset_spec == DatasetSpec("digits", None, {"n_train": 100})
    assert ck.epoch == 1 and len(ck.history) == 1
    assert ck.optimizer_state and "state" in ck.optimizer_state
    for (k, a), (k2, b) in zip(model.state_dict().items(), ck.model.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    assert not ck.model.training


def test_save_is_atomic_and_leaves_no_temp_files(trained):
    model, path = trained
    before = path.read_bytes()
    save_checkpoint(path, model, epoch=2)
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
