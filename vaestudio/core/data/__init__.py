"""Data sets: built-in generated ones and real formats, all behind one registry.

`open_dataset(name_or_spec, root, ...)` returns an `ImageDataset` (uint8 (N, C, H, W) splits,
labels, attributes, names, description); `list_datasets()` describes what can be opened.
"""
from .base import DatasetSpec, ImageDataset, Split
from .registry import DATASET_NAMES, DatasetInfo, list_datasets, open_dataset

__all__ = ["DATASET_NAMES", "DatasetInfo", "DatasetSpec", "ImageDataset", "Split", "list_datasets", "open_dataset"]
