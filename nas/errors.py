"""Errors that users see: each names what was wrong (a file and field, a study, a flag, a
store) and the problem. The ``nas`` command prints a :class:`UserError` as one paragraph and
exits with status 2, an :class:`EnvironmentFault` (the machine or network failed, not the
request) as one line with status 3; any other exception is a bug and keeps its traceback."""

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


class StoreError(UserError):
    """The results store named cannot be used as given: an unknown kind of URL, a folder
    that does not exist, a file that is not a store, or no store where a command reads one.

    ``url`` is the store as shown to users (password masked, an SQLite path made absolute),
    ``problem`` one sentence saying what is wrong and what to do.
    """

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


class NoStore(StoreError):
    """A command that only reads found no store at the location (nothing was created)."""


class EnvironmentFault(Exception):
    """A fault of the machine or the network that the user's request did not cause: a
    database server that cannot be reached, a read-only store, a full disk.

    ``where`` is the store (as shown to users) or file concerned, ``problem`` one sentence
    with what to do; once the cause is fixed, the same command continues where it stopped
    (finished trials are kept).
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
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
