import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VAESTUDIO_CACHE", os.path.join(os.path.dirname(__file__), "..", ".cache-test"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private, empty cache folder for the test (VAESTUDIO_CACHE)."""
    monkeypatch.setenv("VAESTUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
