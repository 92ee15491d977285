"""Trials per minute with one and two workers on the same digits MLP search.

Every run is the same search: ``search_spaces/mlp.yaml`` on digits, ``--trials`` trials of
``--epochs`` epochs, the random sampler with seed 0 (so every run trains the same candidates
in the same order), no pruner, each run in a fresh process with a fresh store and the
persistent compilation cache off. Runs:

- ``in-process``: one worker, trained in the driver's process (what ``--workers 1`` does);
- ``ray x1``: one Ray worker actor (local instance);
- ``ray x2``: two Ray worker actors, one CPU each;
- ``ray x2, 1 XLA thread``: the same with XLA's CPU backend kept to one thread per worker.

Each is repeated ``--rounds`` times, alternating, and the median is reported. ``total`` rates
count the whole ``run_search`` call (Ray start-up included); ``steady`` rates count from the
first trial's start to the last trial's end. Results go to ``results/workers.json`` and
``results/workers.md`` beside this file.

    python experiments/benchmarks/workers.py          # about 5 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
ONE_XLA_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

RUNS = {
    "in-process": {"workers": 1, "ray": False, "env": {}},
    "ray x1": {"workers": 1, "ray": True, "env": {}},
    "ray x2": {"workers": 2, "ray": True, "env": {}},
    "ray x2, 1 XLA thread": {"workers": 2, "ray": True, "env": {"XLA_FLAGS": ONE_XLA_THREAD}},
}

SEARCH = """
import json, sys, time
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
from nas.search import load_experiment
from nas.execution import LocalExecutor
from nas.execution.ray import RayExecutor
from nas.search import run_search
from nas.store import load_study
exp = load_experiment(sys.argv[1])
use_ray = sys.argv[3] == "ray"
# "ray x1" must not fall back to the in-process executor, so the executor is named here.
factory = (lambda e, d, c: RayExecutor(d, c, e.execution)) if use_ray else (
    lambda e, d, c: LocalExecutor(d, c))
start = time.perf_counter()
summary = run_search(exp, executor_factory=factory)
total = time.perf_counter() - start
done = load_study(exp.storage, exp.study).get_trials(states=(optuna.trial.TrialState.COMPLETE,))
span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done))
json.dump({"total_seconds": total, "span_seconds": span.total_seconds(),
           "counted": summary.counted,
           "compile_seconds": sum(t.user_attrs["compile_seconds"] for t in done),
           "train_seconds": sum(t.user_attrs["train_seconds"] for t in done),
           "best_val_accuracy": max(t.value for t in done)}, open(sys.argv[2], "w"))
"""


def run_once(name: str, trials: int, epochs: int, folder: Path) -> dict:
    spec = RUNS[name]
    exp = folder / "exp.yaml"
    exp.write_text(
        textwrap.dedent(f"""\
        study: bench
        space: {ROOT / "search_spaces/mlp.yaml"}
        dataset: digits
        training: {{epochs: {epochs}}}
        objectives: {{val_accuracy: maximize}}
        sampler: random
        trials: {trials}
        seed: 0
        storage: sqlite:///{folder / "bench.db"}
        execution: {{workers: {spec["workers"]}, cpus_per_trial: 1}}
        artifacts: {{keep_weights: none}}
        """)
    )
    out = folder / "result.json"
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "XLA_FLAGS")}
    # Cold compiles in every run: a persistent cache would favour whichever runs later.
    env["NAS_COMPILATION_CACHE"] = "off"
    env.update(spec["env"])
    subprocess.run(
        [sys.executable, "-c", SEARCH, str(exp), str(out), "ray" if spec["ray"] else "local"],
        check=True,
        env=env,
        cwd=folder,
    )
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    load_at_start = round(os.getloadavg()[0], 2)
    runs: dict[str, list[dict]] = {name: [] for name in RUNS}
    for round_ in range(args.rounds):
        for name in RUNS:
            with tempfile.TemporaryDirectory() as tmp:
                result = run_once(name, args.trials, args.epochs, Path(tmp))
            assert result["counted"] == args.trials, result
            result["round"] = round_
            runs[name].append(result)
            rate = 60 * args.trials / result["total_seconds"]
            print(f"{name}: {result['total_seconds']:.1f} s, {rate:.1f} trials/min", flush=True)

    summary = {}
    for name, results in runs.items():
        total = statistics.median(r["total_seconds"] for r in results)
        span = statistics.median(r["span_seconds"] for r in results)
        summary[name] = {
            "total_seconds": total,
            "trials_per_minute": 60 * args.trials / total,
            "steady_trials_per_minute": 60 * args.trials / span,
            "compile_seconds": statistics.median(r["compile_seconds"] for r in results),
            "train_seconds": statistics.median(r["train_seconds"] for r in results),
        }
    base = summary["in-process"]
    for row in summary.values():
        row["speedup"] = row["trials_per_minute"] / base["trials_per_minute"]
        row["steady_speedup"] = row["steady_trials_per_minute"] / base["steady_trials_per_minute"]
    machine = {
        "load_average_at_start": load_at_start,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.mkdir(exist_ok=True)
    payload = {"trials": args.trials, "epochs": args.epochs, "rounds": args.rounds, **machine}
    payload |= {"summary": summary, "runs": runs}
    (RESULTS / "workers.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        "# Trials per minute with one and two workers (digits MLP search)",
        "",
        f"{args.trials} trials x {args.epochs} epochs, random sampler seed 0, no pruner, "
        f"median of {args.rounds} alternating runs, {machine['machine']}, cpu, "
        f"{machine['cpus']} cores, {machine['date']}.",
        "Produced by `python experiments/benchmarks/workers.py`.",
        "",
        "| run | total s | trials/min | speed-up | steady trials/min | steady speed-up "
        "| compile s | train s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in summary.items():
        lines.append(
            f"| {name} | {row['total_seconds']:.1f} | {row['trials_per_minute']:.1f} "
            f"| {row['speedup']:.2f}x | {row['steady_trials_per_minute']:.1f} "
            f"| {row['steady_speedup']:.2f}x | {row['compile_seconds']:.1f} "
            f"| {row['train_seconds']:.1f} |"
        )
    lines += [
        "",
        f"Load average when the benchmark started: {load_at_start} (other work on the machine "
        "slows every run alike, as runs alternate).",
        "",
        "With one CPU per trial, two workers share the cores a single in-process worker already",
        "uses (XLA compiles in background threads and runs steps on several threads), and each",
        "worker compiles its own programs, so on a machine with few cores more workers gain",
        "little or nothing, while Ray's own processes, its per-epoch messages and its start-up",
        "(a few seconds, in the totals) cost time. Workers pay off with more cores than one",
        "trial can use, or with more nodes.",
    ]
    (RESULTS / "workers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
