"""The ``nas`` commands: each ``cmd_NAME`` runs one, ``configure_NAME`` declares its flags.
Library imports happen inside the commands, so ``nas --help`` stays fast."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cmd_validate(args: argparse.Namespace) -> int:
    import json

    from nas.cli.console import plain, stdout_console
    from nas.data import load_dataset
    from nas.model import model_stats
    from nas.space import RandomSuggest, load_space

    console = stdout_console()
    space = load_space(args.space)
    size = space.cardinality()
    # File names and the space's name are the user's text: printed as text (plain).
    console.print(plain(f"{args.space}: valid space {space.name!r} (input: {space.input_kind})"))
    console.print(
        f"candidates: {'infinite (continuous parameters)' if size is None else f'{size:,}'}"
    )
    arch = space.sample(RandomSuggest(args.seed))
    if args.dataset:
        data = load_dataset(args.dataset, kind=space.input_kind, source="--dataset")
        space.check_input(data.input_shape, source=space.source)
        stats = model_stats(arch, data.input_shape, data.num_classes)
        console.print(
            plain(
                f"checked against {args.dataset} "
                f"(input {data.input_shape}, {data.num_classes} classes)"
            )
        )
        console.print(f"sample: {stats.n_params:,} parameters, {stats.flops:,} FLOPs per example")
    console.print("sampled candidate:")
    console.print_json(json.dumps(arch.to_dict()))
    return 0


def configure_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("space", type=Path, help="search space YAML file")
    p.add_argument("--dataset", help="also check shapes against this dataset (name or file)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled candidate")


def cmd_search(args: argparse.Namespace) -> int:
    from nas.cli.console import ConsoleReporter, stdout_console, trials_table
    from nas.search import load_experiment, run_search
    from nas.store import store_faults

    overrides = {
        "trials": args.trials,
        "timeout": args.timeout,
        "storage": args.storage,
        "study": args.study,
        "seed": args.seed,
        "workers": args.workers,
        "address": args.address,
    }
    experiment = load_experiment(args.experiment, overrides)
    # A store that fails mid-search (read-only, full disk) fails inside Optuna or the
    # driver; the error is named here, where the store's URL is known.
    with store_faults(experiment.storage):
        summary = run_search(experiment, reporter=ConsoleReporter())
    if summary.interrupted:
        print(
            "interrupted: finished trials are kept; run the same command to resume",
            file=sys.stderr,
        )
        exit_now(130)
    from nas.results import ranked_rows

    with store_faults(experiment.storage):
        rows, columns = ranked_rows(experiment.storage, experiment.study, top=args.top)
    stdout_console().print(trials_table(rows, columns, f"top trials of {experiment.study}"))
    return 0


def configure_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", type=Path, help="experiment YAML file")
    p.add_argument(
        "--trials",
        type=int,
        help="counted trials wanted in the study (a target shared by drivers on one study)",
    )
    p.add_argument("--timeout", type=float, help="seconds after which no new trial starts")
    p.add_argument("--storage", help="results store URL (default sqlite:///nas.db)")
    p.add_argument("--study", help="study name")
    p.add_argument("--seed", type=int, help="sampler and training seed")
    p.add_argument("--workers", type=int, help="trials at a time (more than 1: on Ray workers)")
    p.add_argument("--address", help="Ray cluster to join (the head's host:port; or RAY_ADDRESS)")
    p.add_argument("--top", type=int, default=10, help="rows of the final table")


def cmd_trials(args: argparse.Namespace) -> int:
    from nas.cli.console import stdout_console, trials_table
    from nas.results import ranked_rows, write_table
    from nas.store import store_faults

    with store_faults(args.storage):
        if args.format or args.output:
            path = write_table(args.storage, args.study, args.format, args.output)
            print(f"wrote {path}")
            return 0
        rows, columns = ranked_rows(args.storage, args.study, top=args.top)
    stdout_console().print(trials_table(rows, columns, f"trials of {args.study}, best first"))
    return 0


def configure_trials(p: argparse.ArgumentParser) -> None:
    from nas.urls import DEFAULT_STORAGE

    p.add_argument("study", help="study name")
    p.add_argument("--storage", default=DEFAULT_STORAGE, help="results store URL")
    p.add_argument("--top", type=int, default=20, help="rows to show (0: all)")
    p.add_argument(
        "--format",
        choices=["csv", "parquet", "json"],
        help="write all trials in this format (default with --output: from its suffix)",
    )
    p.add_argument(
        "--output", type=Path, help="write all trials to this .csv, .parquet or .json file"
    )


def cmd_report(args: argparse.Namespace) -> int:
    from nas.results import write_report
    from nas.store import store_faults

    with store_faults(args.storage):
        page = write_report(args.storage, args.study, args.output, top=args.top)
    print(f"wrote {page}")
    return 0


def configure_report(p: argparse.ArgumentParser) -> None:
    from nas.urls import DEFAULT_STORAGE

    p.add_argument("study", help="study name")
    p.add_argument("--storage", default=DEFAULT_STORAGE, help="results store URL")
    p.add_argument("--output", type=Path, required=True, help="folder to write the report to")
    p.add_argument("--top", type=int, default=10, help="rows of the top-trials table")


def cmd_export(args: argparse.Namespace) -> int:
    from nas.results import ExportError, export_trial
    from nas.store import store_faults

    try:
        with store_faults(args.storage):
            done = export_trial(
                args.storage,
                args.study,
                args.output,
                weights=args.weights,
                trial=args.trial,
                pick=args.pick,
                artifacts=args.artifacts,
            )
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {done.model} and {done.weights} (trial {done.trial})")
    return 0


def _trial_choice(value: str) -> str:
    if value != "best" and not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected 'best' or a trial number, got {value!r}")
    return value


def configure_export(p: argparse.ArgumentParser) -> None:
    from nas.urls import DEFAULT_STORAGE

    p.add_argument("study", help="study name")
    p.add_argument("--storage", default=DEFAULT_STORAGE, help="results store URL")
    p.add_argument(
        "--trial", type=_trial_choice, default="best", help="'best' (default) or a trial number"
    )
    p.add_argument(
        "--pick",
        choices=["accuracy", "params", "knee"],
        default="knee",
        help="with several objectives, which Pareto-front trial 'best' means (default knee)",
    )
    p.add_argument("--output", type=Path, required=True, help="Python file to write")
    p.add_argument("--weights", type=Path, help="weights file (default: OUTPUT as .msgpack)")
    p.add_argument("--artifacts", help="folder of the study's weight files, if not the default")


def exit_now(status: int) -> None:
    """Exit without interpreter teardown. After an interrupt, XLA's runtime threads can
    still be winding down, and tearing down the interpreter under them can crash the
    process; everything the search wrote is committed by now."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
