"""Exceptions the CLI and the window show to a person as one clear line.

Everything raised on bad input derives from `VaeStudioError`, so callers catch one type
and show `str(err)`; a traceback is only for `--debug`.
"""
from __future__ import annotations

import os


class VaeStudioError(Exception):
    """Base of every user-facing error. `str()` is the whole message."""


class FileProblem(VaeStudioError):
    """Something is wrong with a file: the message names the file, then the problem."""

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class DataError(FileProblem):
    """A data set could not be opened or is malformed."""


class DataNotFoundError(DataError):
    """The files of a data set are missing (and could not, or were not asked to, be downloaded)."""


class CheckpointError(FileProblem):
    """A checkpoint file is missing, truncated, not a checkpoint, or carries code."""


class ConfigError(VaeStudioError):
    """A model or training setting is invalid (for example a conv net on an odd image size)."""


class TrainingError(VaeStudioError):
    """Training stopped on its own, for example on a non-finite loss."""


class Cancelled(VaeStudioError):
    """Long work (a conversion, a generation, training) was cancelled by the user."""


def plain_message(exc: BaseException) -> str:
    """One sentence for a person about any exception: the message of our own errors, a plain
    description of the rest, never an exception class name (the traceback is for --debug)."""
    if isinstance(exc, VaeStudioError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "ran out of memory"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read"
    if isinstance(exc, OSError):
        what = exc.strerror or " ".join(str(exc).split()) or "the operating system refused"
        what = what[:1].lower() + what[1:]
        name = exc.filename
        return f"{os.fspath(name)}: {what}" if isinstance(name, (str, bytes, os.PathLike)) else what
    text = " ".join(str(exc).split())  # one line
    if not text:
        return "an unexpected internal error"
    return text if len(text) <= 300 else text[:297] + "..."
