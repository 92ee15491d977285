"""``nas studies`` (the studies of a store) and ``nas delete`` (one study and its weights)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_studies(args: argparse.Namespace) -> int:
    from rich.table import Table

    from nas.cli.console import plain, stdout_console
    from nas.results import format_cell
    from nas.store import list_studies, shown_url, store_faults

    with store_faults(args.storage):
        studies = list_studies(args.storage)
    console = stdout_console()
    if not studies:
        console.print(plain(f"no studies in {shown_url(args.storage)}"))
        return 0
    table = Table(title=plain(f"studies in {shown_url(args.storage)}"))
    columns = ("study", "trials", "complete", "pruned", "failed", "running", "best", "last update")
    for column in columns:
        table.add_column(plain(column), justify="left" if column == "study" else "right")
    for study in studies:
        best = ", ".join(
            f"{metric} {format_cell(value)}"
            for (metric, _), value in zip(study.objectives, study.best, strict=True)
            if value is not None
        )
        counts = (study.states.get(state, 0) for state in ("COMPLETE", "PRUNED", "FAIL", "RUNNING"))
        when = study.last_update.strftime("%Y-%m-%d %H:%M:%S") if study.last_update else "-"
        cells = (study.name, study.n_trials, *counts, best or "-", when)
        table.add_row(*(plain(cell) for cell in cells))
    console.print(table)
    return 0


def configure_studies(p: argparse.ArgumentParser) -> None:
    from nas.urls import DEFAULT_STORAGE

    p.add_argument("--storage", default=DEFAULT_STORAGE, help="results store URL")


def cmd_delete(args: argparse.Namespace) -> int:
    from nas.errors import UsageError
    from nas.store import artifacts_dir, delete_study, shown_url, store_faults, study_overview

    with store_faults(args.storage):
        overview = study_overview(args.storage, args.study)
    folder = artifacts_dir(args.storage, args.study, args.artifacts)
    what = (
        f"study {args.study!r} ({overview.n_trials} trials) from {shown_url(args.storage)}, "
        f"and its weights folder {Path(folder).absolute()}"
    )
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"nas delete: standard input is not a terminal, so there is no one to ask "
                f"before deleting {what}; add --yes to delete without asking"
            )
        from nas.cli.console import printable

        answer = _ask(f"delete {printable(what)}? [y/N] ")
        if answer not in ("y", "yes"):
            print("nothing deleted", file=sys.stderr)
            return 1
    with store_faults(args.storage):
        removed = delete_study(args.storage, args.study, args.artifacts)
    from nas.cli.console import printable

    print(printable(f"deleted study {args.study!r} and {removed.removed} weight file(s)"))
    if removed.left:
        print(
            printable(
                f"kept {removed.folder.absolute()}: it also holds {', '.join(removed.left[:5])}"
                + (", ..." if len(removed.left) > 5 else "")
                + " (not this toolkit's weight files)"
            ),
            file=sys.stderr,
        )
    return 0


def _ask(prompt: str) -> str:
    try:
        return input(prompt).strip().lower()
    except EOFError:
        return ""


def configure_delete(p: argparse.ArgumentParser) -> None:
    from nas.urls import DEFAULT_STORAGE

    p.add_argument("study", help="study name")
    p.add_argument("--storage", default=DEFAULT_STORAGE, help="results store URL")
    p.add_argument("--yes", action="store_true", help="delete without asking")
    p.add_argument("--artifacts", help="folder of the study's weight files, if not the default")
