"""CelebA's attribute names, and the hair-colour label both face data sets colour points by."""
from __future__ import annotations

from typing import Sequence

import numpy as np

# The 40 attributes of list_attr_celeba.txt, in the file's order.
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones",
    "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin",
    "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie", "Young",
)

HAIR_LABELS = ("black hair", "brown hair", "blond hair", "gray hair", "bald", "other hair")
# Which attribute decides each label, first match wins (bald and gray before colours).
_HAIR_ORDER = (("Bald", 4), ("Gray_Hair", 3), ("Blond_Hair", 2), ("Black_Hair", 0), ("Brown_Hair", 1))


def hair_labels(attributes: np.ndarray, names: Sequence[str]) -> np.ndarray | None:
    """Label per image from its hair attributes (index into HAIR_LABELS), None if none exist."""
    names = list(names)
    if not any(a in names for a, _ in _HAIR_ORDER):
        return None
    labels = np.full(len(attributes), HAIR_LABELS.index("other hair"), dtype=np.int64)
    decided = np.zeros(len(attributes), dtype=bool)
    for attr, label in _HAIR_ORDER:
        if attr in names:
            hit = (attributes[:, names.index(attr)] == 1) & ~decided
            labels[hit] = label
            decided |= hit
    return labels
