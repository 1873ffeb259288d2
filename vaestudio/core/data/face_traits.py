"""Who each cartoon face is: CelebA-named attributes, drawn with real data's correlations.

Men are rarely blond or long-haired, often bearded and never wear lipstick; grey hair and
baldness come with age; an open mouth goes with a smile; a sixth of eyeglasses are dark
(sunglasses, which CelebA also marks as Eyeglasses). Pale_Skin faces get the palest tones.
"""
from __future__ import annotations

import numpy as np

# The attributes the generator draws, named and ordered as in CelebA.
FACE_ATTRIBUTES = (
    "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Eyeglasses", "Gray_Hair", "Male",
    "Mouth_Slightly_Open", "No_Beard", "Pale_Skin", "Smiling", "Wearing_Hat", "Wearing_Lipstick",
    "Young",
)

HAIR_RGB = {  # mean colour of each hair colour; each face varies around it
    "black": (0.09, 0.07, 0.07), "brown": (0.40, 0.25, 0.13), "blond": (0.92, 0.80, 0.48),
    "gray": (0.72, 0.72, 0.74), "red": (0.72, 0.30, 0.12),
    "none": (0.50, 0.45, 0.40),  # the fringe left on a bald head
}
_LIGHT_SKIN = np.array([0.98, 0.84, 0.72])
_DARK_SKIN = np.array([0.40, 0.25, 0.16])
_PALE_SKIN = np.array([1.0, 0.93, 0.88])


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of probabilities (n, k)."""
    cum = np.cumsum(probs, axis=1)
    return (rng.random((len(probs), 1)) * cum[:, -1:] > cum).sum(axis=1)


def sample_traits(rng: np.random.Generator, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Attributes (n, len(FACE_ATTRIBUTES)) uint8 0/1, and the look that goes with them."""
    u = lambda: rng.random(n)  # noqa: E731
    male = u() < 0.42
    young = u() < np.where(male, 0.70, 0.83)
    bald = male & (u() < np.where(young, 0.02, 0.15))
    gray = ~bald & (u() < np.where(young, 0.01, 0.35))
    # Among the other colours: black, brown, blond, red.
    colour_probs = np.where(male[:, None], [0.48, 0.40, 0.06, 0.06], [0.30, 0.30, 0.30, 0.10])
    colour = np.array(["black", "brown", "blond", "red"])[_pick(rng, colour_probs)]
    hair = np.where(bald, "none", np.where(gray, "gray", colour))
    smiling = u() < 0.48
    glasses = u() < np.where(young, 0.05, 0.18)
    traits = {
        "Bald": bald,
        "Bangs": ~bald & (u() < np.where(male, 0.08, 0.25)),
        "Black_Hair": hair == "black",
        "Blond_Hair": hair == "blond",
        "Brown_Hair": hair == "brown",
        "Eyeglasses": glasses,
        "Gray_Hair": hair == "gray",
        "Male": male,
        "Mouth_Slightly_Open": u() < np.where(smiling, 0.75, 0.2),
        "No_Beard": ~(male & (u() < 0.35)),
        "Pale_Skin": u() < 0.05,
        "Smiling": smiling,
        "Wearing_Hat": u() < 0.06,
        "Wearing_Lipstick": ~male & (u() < 0.8),
        "Young": young,
    }
    attributes = np.stack([traits[a] for a in FACE_ATTRIBUTES], axis=1).astype(np.uint8)

    hair_rgb = np.array([HAIR_RGB[h] for h in hair])
    hair_rgb = np.clip(hair_rgb * rng.uniform(0.85, 1.15, (n, 1)) + rng.normal(0, 0.03, (n, 3)), 0, 1)
    tone = rng.beta(1.3, 2.2, (n, 1))  # 0 light .. 1 dark, mostly light as in CelebA
    skin = _LIGHT_SKIN + tone * (_DARK_SKIN - _LIGHT_SKIN)
    skin = np.where(traits["Pale_Skin"][:, None], _PALE_SKIN - 0.04 * rng.random((n, 1)), skin)
    look = {
        "skin": np.clip(skin + rng.normal(0, 0.02, (n, 3)), 0, 1),
        "hair": hair_rgb,
        "long_hair": ~bald & (u() < np.where(male, 0.08, 0.85)),
        "hair_volume": np.where(male, rng.uniform(0.5, 2.0, n), rng.uniform(1.5, 3.5, n)),
        "sunglasses": glasses & (u() < 0.35),
        "face_rx": rng.uniform(11.5, 14.0, n) + male * 0.8,
        "face_ry": rng.uniform(14.5, 17.0, n),
        "jaw": np.where(male, rng.uniform(0.05, 0.25, n), rng.uniform(0.2, 0.4, n)),
        "eye_gap": rng.uniform(4.8, 6.2, n),
        "iris": rng.choice(np.array([[0.25, 0.15, 0.08], [0.2, 0.35, 0.55], [0.2, 0.4, 0.25]]), n, p=[0.7, 0.2, 0.1]),
        "mouth_w": rng.uniform(4.0, 6.0, n),
        "background": rng.uniform(0.15, 0.95, (n, 2, 3)),
        "shirt": rng.uniform(0.05, 0.9, (n, 3)),
        "hat": rng.uniform(0.05, 0.9, (n, 3)),
        "frame": rng.uniform(0.0, 0.35, (n, 3)),
        "tilt": rng.normal(0, 0.07, n),
        "scale": rng.uniform(0.9, 1.1, n),
        "shift": rng.normal(0, 2.0, (n, 2)),
        "phase": rng.uniform(0, 2 * np.pi, n),
    }
    look.update({k: v for k, v in traits.items()})
    return attributes, look
