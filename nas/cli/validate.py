"""``nas validate FILE``: a space file or an experiment file, told apart by content.

An experiment is checked as ``nas search`` checks it before opening its study (the file, its
space, the dataset's shapes, the sampler's and pruner's options), and the command prints
what a search would do; nothing is written: no store, study, folder or file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console


def validate_file(args: argparse.Namespace) -> int | None:
    """Run ``nas validate`` on an experiment file and return its exit status; ``None`` where
    ``args.space`` is a space file (the caller validates it). Raises
    :class:`~nas.errors.SpecError` for a file of neither kind, or a bad experiment."""
    from nas.config import file_kind
    from nas.errors import UsageError
    from nas.yamlio import load_yaml

    if file_kind(load_yaml(args.space), args.space) == "space":
        return None
    if args.dataset:
        raise UsageError(
            f"--dataset: {args.space} is an experiment, which names its own dataset; "
            "--dataset applies to space files"
        )
    return validate_experiment(args.space, args.seed)


def validate_experiment(path: Path, seed: int | None = None) -> int:
    """Print what ``nas search PATH [--seed SEED]`` would do; 0, or raises the
    :class:`~nas.errors.SpecError` the search would stop with."""
    from nas.cli.console import plain, stdout_console
    from nas.search import preview_search

    preview = preview_search(path, {"seed": seed})
    console = stdout_console()
    for line in _lines(preview):
        # Names, paths and options are the user's text: printed as text (plain).
        console.print(plain(line))
    error = preview.no_fit()
    if error is not None:
        raise error
    _sample(console, preview)
    console.print(plain("nothing was written (no store, study or folder)"))
    return 0


def _lines(preview: Any) -> list[str]:
    from nas.store import shown_url

    exp, data = preview.experiment, preview.data
    size = exp.space.cardinality()
    continuous = exp.space.continuous_params()
    candidates = (
        f"{size:,} candidates"
        if size is not None
        else f"infinitely many candidates ({len(continuous)} continuous parameters, "
        f"e.g. {continuous[0]})"
    )
    objectives = ", ".join(f"{metric} ({direction})" for metric, direction in exp.objectives)
    table = exp.data_spec.table
    budget = [f"{exp.trials:,} trials" if exp.trials is not None else ""]
    budget.append(f"timeout {exp.timeout:g} s" if exp.timeout is not None else "")
    limits = [
        f"{name} {value:,}"
        for name, value in (
            ("max_params", exp.constraints.max_params),
            ("max_flops", exp.constraints.max_flops),
        )
        if value is not None
    ]
    lines = [
        f"{exp.path}: valid experiment; study {exp.study!r} in {shown_url(exp.storage)}",
        f"space: {exp.space_path} ({exp.space.name!r}, {exp.space.input_kind} input): {candidates}",
        _dataset_line(exp, data),
        f"objectives: {objectives}; "
        + ("looked up, not trained" if table else f"{exp.training.epochs} epochs per trial"),
        f"sampler: {_algorithm(exp.sampler)}; pruner: {_algorithm(exp.pruner)}; seed {exp.seed}",
        f"budget: {' and '.join(b for b in budget if b)} (counted trials in the study)",
        f"execution: {exp.execution.workers} worker(s) at a time",
    ]
    rejected = len(preview.rejected)
    example = f" (e.g. {preview.rejected[0]})" if rejected else ""
    lines.append(
        f"constraints: {', '.join(limits) if limits else 'none'}; {rejected} of "
        f"{preview.sampled} sampled candidates rejected{example}"
    )
    if preview.params is not None and preview.flops is not None:
        (p_low, p_high), (f_low, f_high) = preview.params, preview.flops
        lines.append(
            f"sampled sizes: {p_low:,} to {p_high:,} parameters, {f_low:,} to {f_high:,} "
            "FLOPs per example"
        )
    return lines


def _algorithm(value: tuple[str, dict[str, Any]]) -> str:
    name, options = value
    shown = ", ".join(f"{key}={option!r}" for key, option in options.items())
    return f"{name} ({shown})" if shown else name


def _sample(console: Console, preview: Any) -> None:
    from nas.space import RandomSuggest

    exp = preview.experiment
    console.print("sampled candidate:")
    console.print_json(json.dumps(exp.sample(RandomSuggest(exp.seed)).to_dict()))


def _dataset_line(exp: Any, data: Any) -> str:
    spec = exp.data_spec
    if spec.table is not None:
        value = {
            "mean": "its mean validation accuracy over the table's seeds",
            "per_seed": "one seed's validation accuracy per query, drawn from the seed",
        }[spec.lookup]
        return (
            f"dataset: {spec.table}, a benchmark table (input {data.input_shape}, "
            f"{data.num_classes} classes): every candidate is looked up ({value}), "
            "not trained; no test split"
        )
    return (
        f"dataset: {data.name} (input {data.input_shape}, {data.num_classes} classes; "
        f"{len(data.y_train):,} train, {len(data.y_val):,} validation, "
        f"{len(data.y_test):,} test examples): shapes fit every candidate"
    )
