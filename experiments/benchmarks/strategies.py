"""How fast each sampler finds NAS-Bench-201's best CIFAR-10 cell, by table lookups.

Every run is the toolkit's own search on ``experiments/nb201_cifar10.yaml`` (the NB201 cell
space, looked up in the ``nb201/cifar10`` table): the sampler is built by
``nas.search.make_sampler`` (seeded per trial from the run's seed, as ``nas search`` does),
each candidate is drawn through the space with ``nas.search.OptunaSuggest``, and a candidate
the study already holds is recorded as a failed, uncounted duplicate, as the driver does. Only
the store differs: Optuna's in-memory storage, one study per run. A *query* is one counted
lookup; a run has a budget of ``--budget`` queries (300).

Modes: ``mean`` answers each query with the table's mean validation accuracy over its seeds;
``per_seed`` with one seed's value drawn from the run's seed and the trial number (what
``dataset: {name: nb201/cifar10, lookup: per_seed}`` does). In both, the *optimum* is the
cell with the best mean validation accuracy, and after each query the *regret* is that
optimum's mean accuracy minus the mean accuracy of the incumbent (the cell with the best
value observed so far), in percentage points.

Reported per sampler and mode, over ``--seeds`` runs (seeds 0..N-1): the median and quartiles
of the queries until the optimum was evaluated (``>B`` where a quarter or more of the runs
never found it in the budget), the share of runs that found it, the mean and median regret
after 25, 50, 100, 150 and 300 queries, and an anytime plot (mean regret and share of runs
that found the optimum, against queries). Results go to ``results/strategies.{json,md,png}``
beside this file; ``--quick`` runs 3 seeds and writes them to a temporary folder instead.

Samplers: every one of ``nas.config.SAMPLERS`` whose method models categorical parameters.
``cmaes`` and ``qmc`` are left out: Optuna's CMA-ES and QMC samplers draw categorical
parameters with their independent (random) sampler, so on this space they are random search.
``gp`` is left out by default for its cost (a GP fit per query; name it in ``--samplers``).

    python experiments/benchmarks/strategies.py            # 100 seeds, 2 processes
    python experiments/benchmarks/strategies.py --quick    # 3 seeds: checks that it runs
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
EXPERIMENT = ROOT / "experiments" / "nb201_cifar10.yaml"
TABLE = "nb201/cifar10"
SAMPLERS = ["random", "tpe", "evolution", "evolution:tournament=20", "local_search"]
"""Run ``--seeds`` times in each mode."""
EXTRA = ["evolution:tournament=5", "nsga2", "grid"]
"""Run ``--extra-seeds`` times, in mean mode only (to keep the benchmark within a CPU budget).
A name may carry options after a colon: ``evolution:tournament=5`` is the paper's quarter of
the population (this sampler's default before it was measured here), ``tournament=20`` the
whole population."""
MODES = ["mean", "per_seed"]
CHECKPOINTS = [25, 50, 100, 150, 300]
MAX_CONSECUTIVE_DUPLICATES = 100  # as the driver (nas.search.candidates)

NOTES = [
    "Notes:",
    "",
    "- A query is a counted lookup. A proposal the study already holds is recorded as an "
    "uncounted duplicate, as `nas search` does, and a run ends early (`stopped early`) where "
    "its sampler proposes 100 of them in a row, as the driver ends such a search; its regret "
    "is then held at its last value and it finds the optimum no later.",
    "- `grid` is Optuna's brute-force sampler: every cell once, in a random order (random "
    "search without repeats). `cmaes` and `qmc` are not run: they draw categorical "
    "parameters with their independent random sampler, so here they are random search. "
    "`gp` is not run for its cost per query.",
    "- In per-seed mode a query's value is one training seed's accuracy, so the incumbent "
    "(best value seen) need not be the best cell by its mean; regret is measured on the mean.",
]

_STATE: dict[str, Any] = {}


def _setup() -> None:
    """Per process: the experiment, the table's mean accuracies and the optimum."""
    sys.path.insert(0, str(ROOT))
    warnings.simplefilter("ignore")
    import numpy as np
    import optuna

    from nas.data.tables import best_key, load_table
    from nas.search import load_experiment

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = load_table(TABLE)
    _STATE["experiment"] = load_experiment(EXPERIMENT)
    _STATE["means"] = {
        k: float(np.mean(np.asarray(v["val_acc"]) / 100.0)) for k, v in table.items()
    }
    _STATE["best"] = best_key(TABLE)


def run_one(task: tuple[str, str, int, int]) -> dict[str, Any]:
    """One search: ``(sampler, mode, seed, budget)`` -> the query at which the optimum was
    first evaluated (``None``: never), the regret after each query, duplicates and time."""
    import optuna
    from optuna.trial import TrialState

    from nas.data import lookup
    from nas.data.tables import table_cell, table_key
    from nas.search import OptunaSuggest, make_sampler
    from nas.search.candidates import duplicate_of
    from nas.search.driver import job_seed

    name, mode, seed, budget = task
    if not _STATE:
        _setup()
    experiment, means = _STATE["experiment"], _STATE["means"]
    best, best_mean = _STATE["best"]
    started = time.perf_counter()
    sampler_name, _, given = name.partition(":")
    options = {k: int(v) for k, v in (pair.split("=") for pair in given.split(",") if pair)}
    sampler = make_sampler(sampler_name, options, seed)
    study = optuna.create_study(
        storage=optuna.storages.InMemoryStorage(), sampler=sampler, direction="maximize"
    )
    found_at, regret, duplicates, in_a_row = None, [], 0, 0
    incumbent, incumbent_value = None, -math.inf
    while len(regret) < budget and not sampler.exhausted:
        trial = study.ask()
        arch = experiment.sample(OptunaSuggest(trial))
        described = arch.to_json()
        trial.set_user_attr("architecture", described)
        if duplicate_of(study, described, trial.number) is not None:
            duplicates += 1
            in_a_row += 1
            study.tell(trial, state=TrialState.FAIL)
            if in_a_row >= MAX_CONSECUTIVE_DUPLICATES:
                break
            continue
        in_a_row = 0
        ops = table_cell(arch)
        value = lookup(TABLE, ops, mode, job_seed(seed, trial.number))["val_accuracy"]
        study.tell(trial, value)
        key = table_key(ops)
        if value > incumbent_value:
            incumbent, incumbent_value = key, value
        regret.append(100.0 * (best_mean - means[incumbent]))
        if key == best and found_at is None:
            found_at = len(regret)
    return {
        "sampler": name,
        "mode": mode,
        "seed": seed,
        "budget": budget,
        "found_at": found_at,
        "regret": [round(r, 6) for r in regret],
        "duplicates": duplicates,
        "seconds": time.perf_counter() - started,
    }


def nearest_rank(values: list[float], q: float) -> float:
    """The ``q`` quantile by nearest rank (a value of the list; ``inf`` counts as one)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summarise(runs: list[dict[str, Any]], budget: int) -> dict[str, Any]:
    """What the report shows of one sampler's runs in one mode."""
    import numpy as np

    hits = [r["found_at"] if r["found_at"] is not None else math.inf for r in runs]
    padded = np.array([r["regret"] + [r["regret"][-1]] * (budget - len(r["regret"])) for r in runs])
    found = np.array([[h <= q for q in range(1, budget + 1)] for h in hits])
    quartiles = {
        name: (None if math.isinf(v) else int(v))
        for name, v in (
            ("q25", nearest_rank(hits, 0.25)),
            ("median", nearest_rank(hits, 0.5)),
            ("q75", nearest_rank(hits, 0.75)),
        )
    }
    return {
        "runs": len(runs),
        "queries_to_optimum": quartiles,
        "found_share": float(np.mean([not math.isinf(h) for h in hits])),
        "regret": {
            str(q): {
                "mean": float(padded[:, q - 1].mean()),
                "median": float(np.median(padded[:, q - 1])),
            }
            for q in CHECKPOINTS
            if q <= budget
        },
        "anytime_mean_regret": [round(float(v), 5) for v in padded.mean(axis=0)],
        "anytime_found_share": [round(float(v), 4) for v in found.mean(axis=0)],
        "duplicates_mean": float(np.mean([r["duplicates"] for r in runs])),
        # Runs that ended before the budget, as the driver ends a search whose sampler
        # proposes 100 candidates in a row that the study holds (it has converged).
        "stopped_early": sum(len(r["regret"]) < budget for r in runs),
        "seconds_per_run": float(np.mean([r["seconds"] for r in runs])),
    }


def markdown(result: dict[str, Any]) -> str:
    budget = result["budget"]

    def shown(v: int | None) -> str:
        return f">{budget}" if v is None else str(v)

    lines = [
        "# Samplers on NAS-Bench-201 CIFAR-10 (table lookups)",
        "",
        f"Seeds 0..N-1 per sampler and mode (runs), {budget} queries each; produced by "
        "`python experiments/benchmarks/strategies.py` "
        f"({result['machine']}, {result['processes']} processes, "
        f"{result['run_seconds']:.0f} s of runs in all; "
        "CPU times on a shared machine are noisy). The optimum is the cell with the best mean "
        f"validation accuracy ({result['optimum']['key']}, "
        f"{100 * result['optimum']['val_accuracy']:.3f}%); regret is its mean accuracy minus "
        "the incumbent's, in percentage points (mean / median over runs).",
        "",
    ]
    for mode in MODES:
        rows = result["results"].get(mode)
        if not rows:
            continue
        header = "| sampler | runs | queries to optimum: median [q25, q75] | found | "
        header += " | ".join(f"regret @{q}" for q in CHECKPOINTS if q <= budget)
        header += " | stopped early | s/run |"
        lines += [f"## {mode} mode", "", header, "|" + "---|" * (header.count("|") - 1)]
        for name, s in rows.items():
            q = s["queries_to_optimum"]
            regrets = " | ".join(
                f"{v['mean']:.3f} / {v['median']:.3f}" for v in s["regret"].values()
            )
            lines.append(
                f"| {name} | {s['runs']} | {shown(q['median'])} [{shown(q['q25'])}, "
                f"{shown(q['q75'])}] | "
                f"{100 * s['found_share']:.0f}% | {regrets} | {s['stopped_early']} | "
                f"{s['seconds_per_run']:.2f} |"
            )
        lines.append("")
    lines += result.get("notes", [])
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = [m for m in MODES if result["results"].get(m)]
    fig, axes = plt.subplots(2, len(modes), figsize=(6 * len(modes), 8), squeeze=False)
    for col, mode in enumerate(modes):
        top, bottom = axes[0][col], axes[1][col]
        for name, s in result["results"][mode].items():
            x = range(1, len(s["anytime_mean_regret"]) + 1)
            top.plot(x, [max(v, 1e-4) for v in s["anytime_mean_regret"]], label=name)
            bottom.plot(x, s["anytime_found_share"], label=name)
        top.set_yscale("log")
        top.set_title(f"{mode} mode: mean regret (accuracy points)")
        bottom.set_title(f"{mode} mode: share of runs that evaluated the optimum")
        for ax in (top, bottom):
            ax.set_xlabel("queries")
            ax.grid(alpha=0.3)
        bottom.set_ylim(0, 1)
        top.legend()
    fig.suptitle("NAS-Bench-201 CIFAR-10 (runs per curve: see strategies.md)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--extra-seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--samplers", nargs="+", default=SAMPLERS)
    parser.add_argument("--extra", nargs="*", default=EXTRA)
    parser.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="3 seeds, to a temporary folder")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "nas_strategies_runs.jsonl",
        help="finished runs, one JSON line each; a run found there is not run again",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="summarise the runs in --cache, run none"
    )
    args = parser.parse_args()
    seeds = 3 if args.quick else args.seeds
    extra_seeds = min(seeds, 3 if args.quick else args.extra_seeds)
    output = args.output or (Path(tempfile.mkdtemp()) if args.quick else RESULTS)
    cache = Path(tempfile.mkdtemp()) / "runs.jsonl" if args.quick else args.cache
    # Seed by seed, so that a run stopped early leaves every sampler with as many seeds.
    tasks = []
    for seed in range(seeds):
        tasks += [(n, m, seed, args.budget) for m in args.modes for n in args.samplers]
        if seed < extra_seeds:
            tasks += [(n, "mean", seed, args.budget) for n in args.extra]
    done = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            run = json.loads(line)
            done[(run["sampler"], run["mode"], run["seed"], run.get("budget", 300))] = run
    runs = [done[t] for t in tasks if t in done]
    todo = [] if args.report_only else [t for t in tasks if t not in done]
    started = time.perf_counter()
    if todo:
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.processes, initializer=_setup) as pool, cache.open("a") as out:
            for k, run in enumerate(pool.imap(run_one, todo), 1):
                runs.append(run)
                out.write(json.dumps(run) + "\n")
                out.flush()
                if k % 50 == 0 or k == len(todo):
                    elapsed = time.perf_counter() - started
                    print(f"{k}/{len(todo)} runs, {elapsed:.0f} s", flush=True)
    _setup()
    names = [*args.samplers, *args.extra]
    best, best_mean = _STATE["best"]
    result: dict[str, Any] = {
        "table": TABLE,
        "experiment": str(EXPERIMENT.relative_to(ROOT)),
        "seeds": seeds,
        "extra_seeds": extra_seeds,
        "budget": args.budget,
        "processes": args.processes,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        # Summed over runs, in whichever invocation ran them (the cache keeps each run's).
        "run_seconds": sum(r["seconds"] for r in runs),
        "optimum": {"key": best, "val_accuracy": best_mean},
        "notes": NOTES,
        "results": {
            mode: {
                name: summarise(
                    sorted(
                        (r for r in runs if r["sampler"] == name and r["mode"] == mode),
                        key=lambda r: r["seed"],
                    ),
                    args.budget,
                )
                for name in names
                if any(r["sampler"] == name and r["mode"] == mode for r in runs)
            }
            for mode in args.modes
        },
        "found_at": {
            mode: {
                name: [
                    r["found_at"]
                    for r in sorted(runs, key=lambda r: r["seed"])
                    if r["sampler"] == name and r["mode"] == mode
                ]
                for name in names
            }
            for mode in args.modes
        },
    }
    output.mkdir(parents=True, exist_ok=True)
    (output / "strategies.json").write_text(json.dumps(result, indent=1) + "\n")
    (output / "strategies.md").write_text(markdown(result))
    plot(result, output / "strategies.png")
    print(markdown(result))
    print(f"results in {output}")


if __name__ == "__main__":
    main()
