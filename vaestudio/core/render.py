"""Pictures for reports and exports, drawn with Pillow: image grids and strips with optional
captions, and the labelled latent scatter with its circle (no matplotlib, no Qt).

Images come in as the models give them -- float (N, C, H, W) in [0, 1] -- or as the data
sets store them, uint8 (N, C, H, W).
"""
from __future__ import annotations

import math
import os
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .errors import ConfigError

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
# The coverage circles and the lattice's square, here and on the window's canvas: black and dark
# grey, which no class colour below is mistaken for (the old red was class 3's red).
CIRCLE_COLOUR = (0, 0, 0)  # the circle the view shows (solid)
SPHERE_COLOUR = (90, 90, 90)  # the D-sphere's great circle for D > 2 (dashed, labelled)
# Tableau 10: distinct colours for labels 0-9, then cycled.
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in font at `size` pixels (a bitmap font where FreeType is missing)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # old Pillow or no FreeType
        return ImageFont.load_default()


def to_uint8_hwc(images) -> np.ndarray:
    """(N, C, H, W) float in [0, 1] or uint8 -> uint8 (N, H, W, C) with C 1 or 3."""
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ValueError(f"images must be shaped (N, 1|3, H, W), got {a.shape}")
    if a.dtype != np.uint8:
        a = (np.clip(a.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def to_pil(image_hwc: np.ndarray, scale: int = 1) -> Image.Image:
    """One uint8 (H, W, C) image -> an RGB PIL image, enlarged `scale` times (nearest)."""
    img = Image.fromarray(image_hwc[..., 0] if image_hwc.shape[-1] == 1 else image_hwc)
    img = img.convert("RGB")
    if scale != 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    return img


def auto_scale(image_shape, target: int = 96) -> int:
    """The whole-number enlargement that makes the shorter side at least `target` pixels."""
    return max(1, math.ceil(target / max(1, min(int(image_shape[-2]), int(image_shape[-1])))))


def _caption_font(cell_width: int) -> ImageFont.ImageFont:
    return font(max(9, min(14, cell_width // 6)))


def labelled_cells(images, labels: Optional[Sequence[str]] = None, scale: int = 1) -> list[Image.Image]:
    """One RGB picture per image, each with its caption centred underneath when labels are given."""
    arr = np.asarray(images)
    if arr.ndim == 4:  # refuse an absurd picture before enlarging anything
        check_pixel_count(arr.shape[0] * arr.shape[-1] * scale * arr.shape[-2] * scale)
    arr = to_uint8_hwc(arr)
    cells = [to_pil(a, scale) for a in arr]
    if labels is None:
        return cells
    if len(labels) != len(cells):
        raise ValueError(f"{len(labels)} labels for {len(cells)} images")
    w, h = cells[0].size
    f = _caption_font(w)
    band = int(f.getbbox("Ag")[3]) + 6
    out = []
    for cell, text in zip(cells, labels):
        canvas = Image.new("RGB", (w, h + band), BACKGROUND)
        canvas.paste(cell, (0, 0))
        ImageDraw.Draw(canvas).text((w / 2, h + band / 2), str(text), fill=INK, font=f, anchor="mm")
        out.append(canvas)
    return out


def check_pixel_count(pixels: int) -> None:
    if pixels > MAX_PICTURE_PIXELS:
        raise ConfigError(f"the picture would hold {pixels:,} pixels, over the limit of "
                          f"{MAX_PICTURE_PIXELS:,}: use fewer images or a smaller scale")


def check_picture_size(width: int, height: int) -> None:
    check_pixel_count(width * height)


def image_grid(images, ncols: Optional[int] = None, labels: Optional[Sequence[str]] = None,
               scale: int = 1, padding: int = 2) -> Image.Image:
    """Tile images row-major, `ncols` wide (default: a square), `padding` white pixels apart."""
    cells = labelled_cells(images, labels, scale)
    n = len(cells)
    ncols = max(1, min(n, ncols or math.ceil(math.sqrt(n))))
    nrows = math.ceil(n / ncols)
    w, h = cells[0].size
    size = (ncols * w + (ncols + 1) * padding, nrows * h + (nrows + 1) * padding)
    check_picture_size(*size)
    grid = Image.new("RGB", size, BACKGROUND)
    for k, cell in enumerate(cells):
        r, c = divmod(k, ncols)
        grid.paste(cell, (padding + c * (w + padding), padding + r * (h + padding)))
    return grid


def image_strip(images, labels: Optional[Sequence[str]] = None, scale: int = 1,
                padding: int = 2) -> Image.Image:
    """All images in one row (an attribute sweep or an interpolation path)."""
    return image_grid(images, ncols=len(to_uint8_hwc(images)), labels=labels, scale=scale,
                      padding=padding)


PICTURE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
MAX_PICTURE_PIXELS = 100_000_000  # ~300 MB of RGB: far beyond any useful grid, well inside memory


def picture_format(path: str | os.PathLike) -> str:
    """The format a picture is written in, from the name's suffix; an unknown suffix is refused
    (never PNG bytes under a .jpg name)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    try:
        return PICTURE_FORMATS[suffix]
    except KeyError:
        raise ConfigError(f"{os.fspath(path)}: cannot write a picture as {suffix or 'a name without a suffix'}: "
                          f"use {', '.join(PICTURE_FORMATS)}") from None


def save_image(image: Image.Image, path: str | os.PathLike) -> None:
    """Write `image` in the format its name says (PNG, JPEG or WebP)."""
    fmt = picture_format(path)
    image.save(os.fspath(path), format=fmt, **({"quality": 92} if fmt in ("JPEG", "WEBP") else {}))


def nice_ticks(lo: float, hi: float, count: int = 5) -> np.ndarray:
    """Round tick values (steps of 1, 2 or 5 x 10^k) covering [lo, hi]."""
    span = max(hi - lo, 1e-12)
    raw = span / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return np.arange(math.ceil(lo / step) * step, hi + step * 1e-9, step)


def _label_name(value: int, names: Optional[Sequence[str]]) -> str:
    return str(names[value]) if names is not None and 0 <= value < len(names) else str(value)


def scatter_plot(
    points,
    labels=None,
    label_names: Optional[Sequence[str]] = None,
    circles: Sequence = (),
    polygons: Sequence = (),
    circle_labels: Sequence[Optional[str]] = (),
    axis_labels: tuple[str, str] = ("z0", "z1"),
    title: Optional[str] = None,
    size: int = 720,
    point_radius: float = 1.6,
    seed: int = 0,
) -> Image.Image:
    """A square, equal-aspect scatter of (N, 2) points coloured by integer label, with outlines.

    `circles`: objects with `.centre` (2,) and `.radius` (the first drawn solid black, the rest
    dashed dark grey), captioned at their tops by `circle_labels` (None: no caption);
    `polygons`: (k, 2) arrays drawn closed, e.g. a lattice's square.
    """
    ss = 2  # draw at twice the size, then shrink: smooth edges without an anti-aliasing API
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    legend = labels is not None
    margin_l, margin_b, margin_t = 64, 52, 36 if title else 16
    margin_r = 120 if legend else 16
    W = H = size
    plot_w, plot_h = W - margin_l - margin_r, H - margin_t - margin_b
    # Equal aspect: one scale for both axes, from everything that has to be visible.
    extent = [pts] + [np.asarray(c.centre)[None] + np.array([[-1, -1], [1, 1]]) * c.radius
                      for c in circles] + [np.asarray(p, dtype=np.float64) for p in polygons]
    allp = np.concatenate([e.reshape(-1, 2) for e in extent if e.size]) if pts.size or circles \
        else np.zeros((1, 2))
    lo, hi = allp.min(0), allp.max(0)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2 * 1.05, 1e-9)
    px_per_unit = min(plot_w, plot_h) / (2 * half)
    ox = margin_l + plot_w / 2 - mid[0] * px_per_unit
    oy = margin_t + plot_h / 2 + mid[1] * px_per_unit

    def to_px(xy):
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        return np.stack([ox + xy[:, 0] * px_per_unit, oy - xy[:, 1] * px_per_unit], 1) * ss

    img = Image.new("RGB", (W * ss, H * ss), BACKGROUND)
    d = ImageDraw.Draw(img)
    box = [margin_l * ss, margin_t * ss, (margin_l + plot_w) * ss, (margin_t + plot_h) * ss]
    d.rectangle(box, outline=INK, width=ss)
    f = font(12 * ss)
    x_lo, x_hi = mid[0] - plot_w / 2 / px_per_unit, mid[0] + plot_w / 2 / px_per_unit
    y_lo, y_hi = mid[1] - plot_h / 2 / px_per_unit, mid[1] + plot_h / 2 / px_per_unit
    for t in nice_ticks(x_lo, x_hi):
        x = to_px([[t, 0]])[0, 0]
        d.line([x, box[3], x, box[3] + 5 * ss], fill=INK, width=ss)
        d.text((x, box[3] + 7 * ss), f"{t:g}", fill=INK, font=f, anchor="mt")
    for t in nice_ticks(y_lo, y_hi):
        y = to_px([[0, t]])[0, 1]
        d.line([box[0] - 5 * ss, y, box[0], y], fill=INK, width=ss)
        d.text((box[0] - 7 * ss, y), f"{t:g}", fill=INK, font=f, anchor="rm")
    d.text(((box[0] + box[2]) / 2, H * ss - 6 * ss), axis_labels[0], fill=INK, font=f, anchor="mb")
    d.text((6 * ss, (box[1] + box[3]) / 2), axis_labels[1], fill=INK, font=f, anchor="lm")
    if title:
        d.text(((box[0] + box[2]) / 2, 8 * ss), title, fill=INK, font=font(14 * ss), anchor="mt")

    # Points in a shuffled order so no class hides the others.
    order = np.random.default_rng(seed).permutation(len(pts))
    lab = None if labels is None else np.asarray(labels).astype(np.int64)
    r = point_radius * ss
    for k, (x, y) in zip(order, to_px(pts[order])):
        colour = PALETTE[int(lab[k]) % len(PALETTE)] if lab is not None else PALETTE[0]
        d.ellipse([x - r, y - r, x + r, y + r], fill=colour)

    for i, c in enumerate(circles):
        (cx, cy), rad = to_px(np.asarray(c.centre)[None])[0], c.radius * px_per_unit * ss
        bbox = [cx - rad, cy - rad, cx + rad, cy + rad]
        if i == 0:
            d.ellipse(bbox, outline=CIRCLE_COLOUR, width=2 * ss)
        else:
            for a in range(0, 360, 8):  # dashed
                d.arc(bbox, a, a + 4, fill=SPHERE_COLOUR, width=2 * ss)
        text = circle_labels[i] if i < len(circle_labels) else None
        if text:  # the first just above its top, the others just inside theirs (wider: a dashed sphere)
            at, anchor = ((cx, cy - rad - 3 * ss), "mb") if i == 0 else ((cx, cy - rad + 8 * ss), "mt")
            d.text(at, text, fill=CIRCLE_COLOUR if i == 0 else SPHERE_COLOUR, font=f, anchor=anchor)
    for poly in polygons:
        xy = [tuple(p) for p in to_px(poly)]
        d.line(xy + xy[:1], fill=CIRCLE_COLOUR, width=ss)

    if legend:
        values = np.unique(lab)
        lx, ly = box[2] + 14 * ss, box[1] + 4 * ss
        for v in values[:30]:
            d.ellipse([lx, ly + 3 * ss, lx + 9 * ss, ly + 12 * ss], fill=PALETTE[int(v) % len(PALETTE)])
            d.text((lx + 15 * ss, ly + 7 * ss), _label_name(int(v), label_names), fill=INK, font=f,
                   anchor="lm")
            ly += 17 * ss
    return img.resize((W, H), Image.Resampling.LANCZOS)
