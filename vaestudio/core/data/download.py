"""Downloading through torchvision, for users who are online and ask for it (`--download`).

Only called with download=True; offline or on any failure it raises DataNotFoundError with the
reason, never a network library's traceback. Tests replace `download_with_torchvision`.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataNotFoundError


def download_with_torchvision(class_name: str, root: Path, **kwargs) -> None:
    """Let torchvision.datasets.<class_name> fetch its files into `root` in its own layout."""
    try:
        import torchvision.datasets as tvd
    except ImportError as e:  # e.g. an app built without torchvision
        raise DataNotFoundError(root, f"downloading needs torchvision, which this installation lacks ({e}); "
                                      f"copy the files into this folder instead") from None

    cls = getattr(tvd, class_name)
    if class_name != "EMNIST":
        kwargs.pop("split", None)
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        cls(str(root), train=True, download=True, **kwargs)
        cls(str(root), train=False, download=True, **kwargs)
    except Exception as e:  # network, disk, checksum: all mean "could not download"
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataNotFoundError(root, f"downloading {class_name} through torchvision failed ({reason}); "
                                      f"without a network, copy the files into this folder instead") from None
