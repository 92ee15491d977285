"""The ``nas`` command: a thin layer over the library (commands in a registry).

Exit status: 0 on success; 2 on bad input (a :class:`nas.errors.UserError`: a one-paragraph
message naming the file and field, the study, the flag or the store, and the problem; no
traceback, nothing written; this includes a store URL of an unknown kind, an SQLite file in a
missing folder, a file that is not a database, and a study or store that does not exist);
3 on a fault of the machine or network (a :class:`nas.errors.EnvironmentFault`: a database
server that cannot be reached, a read-only store, a full disk; one line naming the store or
file, with what to do; finished trials are kept, and the same command continues once the
cause is fixed); 130 when a search was interrupted (finished trials are kept; run the same
command again to resume). Any other error is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from nas.cli import commands as c


def _quiet() -> None:
    """Silence library chatter: only the toolkit's own output reaches the user."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    from nas.search.reporter import quiet_optuna

    quiet_optuna()
    logging.getLogger("jax").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], Callable, str]] = {
    "validate": (
        c.cmd_validate,
        c.configure_validate,
        "check a search space file; print its size and one sampled candidate",
    ),
    "search": (
        c.cmd_search,
        c.configure_search,
        "run or resume the search an experiment describes",
    ),
    "trials": (c.cmd_trials, c.configure_trials, "ranked table of a study's trials (best first)"),
    "report": (
        c.cmd_report,
        c.configure_report,
        "HTML page with plots and the top trials of a study",
    ),
    "export": (
        c.cmd_export,
        c.configure_export,
        "write a trial as a standalone Flax module plus its weights",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas", description="Neural architecture search for JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (fn, configure, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(func=fn)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nas`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet()
    from nas.errors import EnvironmentFault, UserError

    try:
        return args.func(args)
    except UserError as err:
        # Only the toolkit's own input errors: a stray KeyError or ValueError is a bug, and
        # reporting it as bad input would hide it from the user and from us.
        print(f"error: {err}", file=sys.stderr)
        return 2
    except EnvironmentFault as err:
        # Not the user's doing and not a bug: a distinct status lets scripts retry.
        print(f"error: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        c.exit_now(130)


if __name__ == "__main__":
    sys.exit(main())
