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
