"""Errors that users see: each names the file, the field inside it and the problem."""

from __future__ import annotations

from pathlib import Path


class SpecError(ValueError):
    """A declarative file (space, experiment, dataset) is wrong.

    ``source`` is the file (or a short description such as ``"<dict>"``), ``field`` a path
    inside it such as ``layers[1].kernel_size`` (empty for the whole file), ``problem`` one
    sentence. ``str(err)`` is the one-paragraph message the CLI prints.
    """

    def __init__(self, source: str | Path, field: str, problem: str) -> None:
        self.source = str(source)
        self.field = field
        self.problem = problem
        where = f"{self.source}: {field}" if field else self.source
        super().__init__(f"{where}: {problem}")


class TrialFailed(RuntimeError):
    """A trial could not finish; ``reason`` is one line stored with the trial."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
