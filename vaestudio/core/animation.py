"""Animations of a latent path or an attribute sweep: GIF (Pillow), MP4 (imageio + ffmpeg), or
a PNG strip, chosen by the output's suffix.

GIF facts this module works around: delays are stored in hundredths of a second (so 33 ms
becomes 30 ms; the stored value is what we report), and most viewers play delays under 20 ms
at 100 ms; there is no loop extension unless `loop` is given; identical consecutive frames are
merged by Pillow (their delays add up) -- we merge them ourselves first so the reported frame
count and delays are what the file holds. Each frame gets its own adaptive palette.
MP4 (libx264, yuv420p) wants sides that are multiples of 16, so frames are padded to that
before imageio sees them (it would rescale with a warning).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from .errors import VaeStudioError
from .render import image_strip, labelled_cells, save_image, to_uint8_hwc

MACRO_BLOCK = 16
FORMATS = (".gif", ".mp4", ".png")


@dataclass(frozen=True)
class AnimationInfo:
    path: str
    n_frames: int  # frames stored in the file
    frame_ms: float  # per-frame delay as stored (GIF: a multiple of 10 ms)
    size: tuple[int, int]  # (width, height) of the stored frames
    loop: Optional[int] = None  # GIF: 0 = forever, None = play once; MP4/PNG: None


def gif_delay_cs(frame_ms: float) -> int:
    """The GIF delay, in hundredths of a second, closest to `frame_ms` (at least 2)."""
    return max(2, int(frame_ms / 10.0 + 0.5))


def _frames(images, labels: Optional[Sequence[str]], scale: int) -> list[Image.Image]:
    frames = labelled_cells(images, labels, scale)
    if not frames:
        raise VaeStudioError("an animation needs at least one frame")
    return frames


def write_gif(images, path: str | os.PathLike, frame_ms: float = 100.0, loop: Optional[int] = 0,
              labels: Optional[Sequence[str]] = None, scale: int = 1) -> AnimationInfo:
    """Images (N, C, H, W) -> an animated GIF; `loop` 0 repeats forever, None plays once."""
    frames = _frames(images, labels, scale)
    cs = gif_delay_cs(frame_ms)
    kept: list[Image.Image] = [frames[0]]
    delays = [cs]
    for f in frames[1:]:
        if np.array_equal(np.asarray(f), np.asarray(kept[-1])):
            delays[-1] += cs  # what Pillow would do anyway; done here so we can report it
        else:
            kept.append(f)
            delays.append(cs)
    options = {"loop": loop} if loop is not None else {}
    kept[0].save(os.fspath(path), format="GIF", save_all=True, append_images=kept[1:],
                 duration=[d * 10 for d in delays] if len(kept) > 1 else delays[0] * 10,
                 disposal=1, optimize=False, **options)
    return AnimationInfo(path=os.fspath(path), n_frames=len(kept), frame_ms=cs * 10.0,
                         size=kept[0].size, loop=loop)


def pad_to_multiple(frame: np.ndarray, block: int = MACRO_BLOCK, value: int = 255) -> np.ndarray:
    """(H, W, 3) uint8 -> padded evenly on all sides up to multiples of `block`."""
    h, w = frame.shape[:2]
    ph, pw = -h % block, -w % block
    return np.pad(frame, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)),
                  constant_values=value)


def _imageio():
    """imageio, once its ffmpeg is known to exist: both are dependencies, but an environment can
    still lack them (a partial install, a frozen app) and the user deserves the fix, not a trace."""
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg
    except ImportError as e:
        raise VaeStudioError("MP4 export needs imageio and imageio-ffmpeg, which are missing here: "
                             "pip install vaestudio[video]") from e
    try:
        imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as e:
        raise VaeStudioError("MP4 export found no ffmpeg program: reinstall imageio-ffmpeg "
                             "(pip install --force-reinstall imageio-ffmpeg) or set IMAGEIO_FFMPEG_EXE") from e
    return imageio


def write_mp4(images, path: str | os.PathLike, fps: float = 10.0,
              labels: Optional[Sequence[str]] = None, scale: int = 1) -> AnimationInfo:
    """Images (N, C, H, W) -> an H.264 MP4 of N frames at `fps`, sides padded to multiples of 16."""
    imageio = _imageio()
    frames = [pad_to_multiple(np.asarray(f)) for f in _frames(images, labels, scale)]
    try:
        Path(path).unlink(missing_ok=True)  # so an old file cannot pass for the new one
        writer = imageio.get_writer(os.fspath(path), format="FFMPEG", mode="I", fps=fps,
                                    codec="libx264", pixelformat="yuv420p", macro_block_size=1,
                                    quality=8, ffmpeg_log_level="error")
        try:
            for f in frames:
                writer.append_data(f)
        finally:
            writer.close()
    except (OSError, RuntimeError, ValueError) as e:  # ffmpeg refused or died: no half-written video
        Path(path).unlink(missing_ok=True)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise VaeStudioError(f"ffmpeg could not write {Path(path).name}: {first}") from e
    if not Path(path).is_file() or Path(path).stat().st_size == 0:  # imageio can miss an ffmpeg that quit
        Path(path).unlink(missing_ok=True)
        fix = ("is IMAGEIO_FFMPEG_EXE a working ffmpeg?" if os.environ.get("IMAGEIO_FFMPEG_EXE")
               else "pip install --force-reinstall imageio-ffmpeg")
        raise VaeStudioError(f"ffmpeg could not write {Path(path).name}: it wrote no video ({fix})")
    h, w = frames[0].shape[:2]
    return AnimationInfo(path=os.fspath(path), n_frames=len(frames), frame_ms=1000.0 / fps,
                         size=(w, h))


def write_strip(images, path: str | os.PathLike, labels: Optional[Sequence[str]] = None,
                scale: int = 1) -> AnimationInfo:
    """The frames side by side in one PNG, for reports."""
    img = image_strip(images, labels=labels, scale=scale)
    save_image(img, path)
    return AnimationInfo(path=os.fspath(path), n_frames=len(to_uint8_hwc(images)),
                         frame_ms=0.0, size=img.size)


def save_frames(images, path: str | os.PathLike, fps: float = 10.0,
                labels: Optional[Sequence[str]] = None, scale: int = 1,
                loop: Optional[int] = 0) -> AnimationInfo:
    """Write by suffix: .gif (animated, looping), .mp4 (video) or .png (a strip)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        return write_gif(images, path, frame_ms=1000.0 / fps, loop=loop, labels=labels, scale=scale)
    if suffix == ".mp4":
        return write_mp4(images, path, fps=fps, labels=labels, scale=scale)
    if suffix == ".png":
        return write_strip(images, path, labels=labels, scale=scale)
    raise VaeStudioError(f"cannot write {suffix or 'a file without a suffix'}: "
                         f"use one of {', '.join(FORMATS)}")
