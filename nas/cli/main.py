"""The ``nas`` command: a thin layer over the library (commands in a registry).

Exit status: 0 on success, 2 on bad input (a :class:`nas.errors.UserError`: a one-paragraph
message naming the file and field, the study or the flag, and the problem; no traceback,
nothing written), 130 when a search was interrupted (finished trials are kept; run the same
command again to resume). Any other error is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path


def _quiet() -> None:
    """Silence library chatter: only the toolkit's own output reaches the user."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("jax").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def cmd_validate(args: argparse.Namespace) -> int:
    import json

    from nas.datasets import load_dataset
    from nas.progress import stdout_console
    from nas.space import load_space
    from nas.stats import model_stats
    from nas.suggest import RandomSuggest

    console = stdout_console()
    space = load_space(args.space)
    size = space.cardinality()
    console.print(f"{args.space}: valid space {space.name!r} (input: {space.input_kind})")
    console.print(
        f"candidates: {'infinite (continuous parameters)' if size is None else f'{size:,}'}"
    )
    arch = space.sample(RandomSuggest(args.seed))
    if args.dataset:
        data = load_dataset(args.dataset, kind=space.input_kind, source="--dataset")
        space.check_input(data.input_shape, source=space.source)
        stats = model_stats(arch, data.input_shape, data.num_classes)
        console.print(
            f"checked against {args.dataset} (input {data.input_shape}, {data.num_classes} classes)"
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
    from nas.experiment import load_experiment
    from nas.progress import ConsoleReporter, stdout_console, trials_table
    from nas.search import run_search

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
    summary = run_search(experiment, reporter=ConsoleReporter())
    if summary.interrupted:
        print(
            "interrupted: finished trials are kept; run the same command to resume",
            file=sys.stderr,
        )
        _exit_now(130)
    from nas.analysis import ranked_rows

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
    from nas.analysis import ranked_rows, write_table
    from nas.progress import stdout_console, trials_table

    if args.format or args.output:
        path = write_table(args.storage, args.study, args.format, args.output)
        print(f"wrote {path}")
        return 0
    rows, columns = ranked_rows(args.storage, args.study, top=args.top)
    stdout_console().print(trials_table(rows, columns, f"trials of {args.study}, best first"))
    return 0


def configure_trials(p: argparse.ArgumentParser) -> None:
    from nas.store import DEFAULT_STORAGE

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
    from nas.report import write_report

    page = write_report(args.storage, args.study, args.output, top=args.top)
    print(f"wrote {page}")
    return 0


def configure_report(p: argparse.ArgumentParser) -> None:
    from nas.store import DEFAULT_STORAGE

    p.add_argument("study", help="study name")
    p.add_argument("--storage", default=DEFAULT_STORAGE, help="results store URL")
    p.add_argument("--output", type=Path, required=True, help="folder to write the report to")
    p.add_argument("--top", type=int, default=10, help="rows of the top-trials table")


def cmd_export(args: argparse.Namespace) -> int:
    from nas.export import ExportError, export_trial

    try:
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
    from nas.store import DEFAULT_STORAGE

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


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], Callable, str]] = {
    "validate": (
        cmd_validate,
        configure_validate,
        "check a search space file; print its size and one sampled candidate",
    ),
    "search": (cmd_search, configure_search, "run or resume the search an experiment describes"),
    "trials": (cmd_trials, configure_trials, "ranked table of a study's trials (best first)"),
    "report": (cmd_report, configure_report, "HTML page with plots and the top trials of a study"),
    "export": (
        cmd_export,
        configure_export,
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


def _exit_now(status: int) -> None:
    """Exit without interpreter teardown. After an interrupt, XLA's runtime threads can
    still be winding down, and tearing down the interpreter under them can crash the
    process; everything the search wrote is committed by now."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nas`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet()
    from nas.errors import UserError

    try:
        return args.func(args)
    except UserError as err:
        # Only the toolkit's own input errors: a stray KeyError or ValueError is a bug, and
        # reporting it as bad input would hide it from the user and from us.
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        _exit_now(130)


if __name__ == "__main__":
    sys.exit(main())
