import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from vaestudio.core.animation import (gif_delay_cs, pad_to_multiple, save_frames, write_gif,
                                      write_mp4)
from vaestudio.core.errors import VaeStudioError


def frames(n=7, c=1, size=28):
    """Distinct frames: a bar that moves right."""
    out = np.zeros((n, c, size, size), np.float32)
    for k in range(n):
        out[k, :, :, 2 + k * 3: 5 + k * 3] = 1.0
    return out


def gif_timing(path):
    """(frame count, each frame's stored delay in ms, loop count or None) of a GIF file."""
    im = Image.open(path)
    durations = []
    for k in range(im.n_frames):
        im.seek(k)
        durations.append(im.info["duration"])
    return im.n_frames, durations, im.info.get("loop")


def test_gif_loops_forever_with_the_stored_timing(tmp_path):
    info = write_gif(frames(), tmp_path / "a.gif", frame_ms=33, scale=2)
    assert gif_timing(tmp_path / "a.gif") == (7, [30] * 7, 0)  # hundredths of a second
    assert info.n_frames == 7 and info.loop == 0 and info.frame_ms == 30
    assert Image.open(tmp_path / "a.gif").size == info.size == (56, 56)


def test_gif_timing_rounds_to_hundredths_and_never_below_twenty_ms(tmp_path):
    assert gif_delay_cs(125) == 13 and gif_delay_cs(124) == 12
    assert gif_delay_cs(1000 / 12) == 8 and gif_delay_cs(5) == 2
    info = save_frames(frames(3), tmp_path / "b.gif", fps=12)
    assert gif_timing(tmp_path / "b.gif")[1] == [80, 80, 80] and info.frame_ms == 80


def test_gif_plays_once_without_loop_and_merges_repeats_explicitly(tmp_path):
    f = frames(4)
    f = np.concatenate([f[:2], f[1:2], f[2:]])  # frame 1 twice in a row
    info = write_gif(f, tmp_path / "c.gif", frame_ms=100, loop=None)
    assert gif_timing(tmp_path / "c.gif") == (4, [100, 200, 100, 100], None)
    assert info.loop is None and info.n_frames == 4


def test_gif_frames_keep_their_own_colours(tmp_path):
    f = np.zeros((2, 3, 16, 16), np.float32)
    f[0, 0] = 1.0  # red
    f[1, 2] = 1.0  # blue
    write_gif(f, tmp_path / "rgb.gif", frame_ms=100)
    im = Image.open(tmp_path / "rgb.gif")
    first = np.asarray(im.convert("RGB"))[8, 8]
    im.seek(1)
    second = np.asarray(im.convert("RGB"))[8, 8]
    assert first.tolist() == [255, 0, 0] and second.tolist() == [0, 0, 255]


def test_mp4_opens_with_the_requested_frame_count_and_padded_size(tmp_path):
    imageio = pytest.importorskip("imageio.v2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "resizing to a multiple of 16" warning
        info = write_mp4(frames(9), tmp_path / "a.mp4", fps=12, scale=3, labels=[str(k) for k in range(9)])
    reader = imageio.get_reader(tmp_path / "a.mp4")
    try:
        assert reader.count_frames() == 9 == info.n_frames
        meta = reader.get_meta_data()
        assert meta["fps"] == pytest.approx(12) and tuple(meta["size"]) == info.size
        assert info.size[0] % 16 == 0 and info.size[1] % 16 == 0
    finally:
        reader.close()


def test_padding_centres_the_frame_on_a_multiple_of_sixteen():
    f = np.zeros((28, 40, 3), np.uint8)
    p = pad_to_multiple(f)
    assert p.shape == (32, 48, 3)
    assert (p[2:30, 4:44] == 0).all() and (p[:2] == 255).all() and (p[:, :4] == 255).all()


def test_png_strip_and_unknown_suffix(tmp_path):
    info = save_frames(frames(5), tmp_path / "s.png", labels=list("abcde"), scale=2)
    assert info.n_frames == 5 and Image.open(tmp_path / "s.png").size == info.size
    assert info.size[0] > 5 * 56
    with pytest.raises(VaeStudioError, match=".gif, .mp4, .png"):
        save_frames(frames(2), tmp_path / "x.avi")


def test_missing_imageio_is_a_clear_error(monkeypatch, tmp_path):
    for name in ("imageio", "imageio.v2", "imageio_ffmpeg"):
        monkeypatch.setitem(sys.modules, name, None)  # import of these now fails
    with pytest.raises(VaeStudioError, match=r"pip install vaestudio\[video\]"):
        write_mp4(frames(2), tmp_path / "a.mp4")
    assert not (tmp_path / "a.mp4").exists()
