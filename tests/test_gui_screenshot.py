"""`vaestudio screenshot` and the no-argument launch."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def test_screenshot_verb_trains_and_saves_the_window(tmp_path):
    out = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", VAESTUDIO_STATE_DIR=str(tmp_path / "state"))
    proc = subprocess.run(
        [sys.executable, "-m", "vaestudio", "screenshot", "--out", str(out), "--epochs", "1",
         "--hidden", "32", "--data-option", "n_train=1000", "--data-option", "n_test=100"],
        capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 epochs on digits" in proc.stdout
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[:2] == (800, 1280)
    assert img.std() > 10  # a real picture, not a blank grab
    assert not list((tmp_path / "state" / "autosave").glob("*.pt"))  # the verb leaves nothing behind


def test_screenshot_rejects_a_bad_size(capsys):
    from vaestudio.cli import main

    with pytest.raises(SystemExit):
        main(["screenshot", "--out", "x.png", "--size", "big"])
    assert "1280x800" in capsys.readouterr().err


def test_no_arguments_opens_the_window(monkeypatch):
    import vaestudio.gui.app as app
    from vaestudio.cli import main

    calls = []
    monkeypatch.setattr(app, "run_app", lambda debug=False: calls.append(debug) or 0)
    assert main([]) == 0 and main(["--debug"]) == 0
    assert calls == [False, True]
