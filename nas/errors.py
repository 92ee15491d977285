"""Errors that users see: each names what was wrong (a file and field, a study, a flag) and
the problem. The ``nas`` command prints a :class:`UserError` as one paragraph and exits with
status 2; any other exception is a bug and keeps its traceback."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Base of the errors in what a user asked for; ``str(err)`` is the message to print."""


class SpecError(UserError, ValueError):
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


class UnknownStudy(UserError, KeyError):
    """No study of that name in the store; the one argument is the message naming it and the
    studies there.

    A ``KeyError`` (a name looked up and missing), so callers that catch ``KeyError`` for a
    missing study keep working; ``str(err)`` is the message itself, not its quoted repr.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UsageError(UserError, ValueError):
    """A request that cannot be met as given, such as an output file whose suffix names no
    format the command can write."""
