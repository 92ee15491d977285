"""Pruning a multi-objective search: the digits_cnn Pareto search with and without MO-ASHA.

Every run is ``experiments/digits_cnn.yaml`` (validation accuracy against parameter count,
NSGA-II, 20 epochs per trial) with ``--trials`` trials and a seed, once with ``pruner: none``
and once with ``pruner: mo_asha`` (``--eta``, ``--min-epochs``; the defaults are the
pruner's own), each in a fresh store. Both variants of a seed run one after the other, their
order alternating from seed to seed. Measured per run: the hypervolume of the final Pareto
front of complete trials, and the epochs trained by all trials together.

Hypervolume: each complete trial is the point ``(1 - val_accuracy, log10(n_params) / 6)``,
both to minimise and both in [0, 1] for this space (its largest candidate has about 3e5
parameters); the reference point is ``(1, 1)``: accuracy 0 and 10**6 parameters. As accuracy
0 is far from every front, that hypervolume moves little when a front loses a point; the
table also shows it with the reference at accuracy 0.9 (``hv@0.9``), which weighs the
accurate end of the front far more.

Target: the pruned search reaches >= 95% of the unpruned hypervolume (mean over seeds) with
<= 60% of its epochs (sum over seeds). Results go to ``results/mo_pruning.json`` and
``results/mo_pruning.md`` beside this file (both rewritten after every run, so a stopped
benchmark keeps the seeds it finished).

    python experiments/benchmarks/mo_pruning.py            # 5 seeds x 64 trials
    python experiments/benchmarks/mo_pruning.py --quick    # 2 seeds x 8 trials of 6 epochs,
                                                           # printed only
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
EXPERIMENT = ROOT / "experiments" / "digits_cnn.yaml"
LOG_PARAMS_REF = 6.0  # log10 of the reference parameter count
STRICT_ACCURACY = 0.9

sys.path.insert(0, str(ROOT))


def hypervolume(points: list[tuple[float, float]], ref: tuple[float, float]) -> float:
    """The area dominated by ``points`` (both coordinates minimised) and bounded by ``ref``."""
    inside = sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1])
    area, best_y = 0.0, ref[1]
    for x, y in inside:
        if y < best_y:
            area += (ref[0] - x) * (best_y - y)
            best_y = y
    return area


def normalised(accuracy: float, n_params: float) -> tuple[float, float]:
    return 1.0 - accuracy, math.log10(n_params) / LOG_PARAMS_REF


def run_once(seed: int, pruner: dict | str, args: argparse.Namespace, folder: Path) -> dict:
    """One search in a fresh store; what it trained and the front it found."""
    import optuna

    from nas.search import load_experiment, run_search
    from nas.store import load_study

    spec = yaml.safe_load(EXPERIMENT.read_text())
    spec.update(
        space=str((EXPERIMENT.parent / spec["space"]).resolve()),
        storage=str(folder / "store.log"),
        trials=args.trials,
        seed=seed,
        pruner=pruner,
        artifacts={"keep_weights": "none"},
    )
    spec["training"]["epochs"] = args.epochs
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    experiment = load_experiment(path)
    assert [m for m, _ in experiment.objectives] == ["val_accuracy", "n_params"]
    started = time.perf_counter()
    run_search(experiment)
    seconds = time.perf_counter() - started
    study = load_study(str(folder / "store.log"), spec["study"])
    trials = study.get_trials(deepcopy=False)
    states = optuna.trial.TrialState
    complete = [t for t in trials if t.state == states.COMPLETE]
    front = [
        {"trial": t.number, "val_accuracy": t.values[0], "n_params": int(t.values[1])}
        for t in study.best_trials
    ]
    points = [normalised(p["val_accuracy"], p["n_params"]) for p in front]
    strict_ref = (1.0 - STRICT_ACCURACY, 1.0)
    return {
        "seed": seed,
        "pruner": pruner if isinstance(pruner, str) else pruner["name"],
        "trials": sum(1 for t in trials if "epochs_run" in t.user_attrs),
        "complete": len(complete),
        "pruned": sum(1 for t in trials if t.state == states.PRUNED),
        "epochs": sum(int(t.user_attrs.get("epochs_run", 0)) for t in trials),
        "hypervolume": hypervolume(points, (1.0, 1.0)),
        "hypervolume_strict": hypervolume(points, strict_ref),
        "front": sorted(front, key=lambda p: p["n_params"]),
        "seconds": seconds,
    }


def summarise(runs: list[dict]) -> dict:
    """Per seed with both variants done: the pruned run's share of hypervolume and epochs."""
    by_seed: dict[int, dict[str, dict]] = {}
    for run in runs:
        by_seed.setdefault(run["seed"], {})[run["pruner"]] = run
    pairs = [v for v in by_seed.values() if {"none", "mo_asha"} <= set(v)]
    if not pairs:
        return {}
    hv = [p["mo_asha"]["hypervolume"] / p["none"]["hypervolume"] for p in pairs]
    strict = [
        p["mo_asha"]["hypervolume_strict"] / p["none"]["hypervolume_strict"]
        for p in pairs
        if p["none"]["hypervolume_strict"] > 0
    ]
    epochs = sum(p["mo_asha"]["epochs"] for p in pairs) / sum(p["none"]["epochs"] for p in pairs)
    return {
        "seeds": len(pairs),
        "hypervolume_ratio_mean": statistics.mean(hv),
        "hypervolume_ratio_min": min(hv),
        "hypervolume_strict_ratio_mean": statistics.mean(strict) if strict else None,
        "epochs_ratio": epochs,
        "target_met": statistics.mean(hv) >= 0.95 and epochs <= 0.60,
    }


def _flags(settings: dict) -> str:
    """The command-line flags that reproduce a run with these settings."""
    if settings["quick"]:
        return " --quick"
    given = {
        "seeds": (len(settings["seeds"]), 5),
        "trials": (settings["trials"], 64),
        "epochs": (settings["epochs"], 20),
    }
    return "".join(f" --{name} {value}" for name, (value, usual) in given.items() if value != usual)


def markdown(result: dict) -> str:
    s, summary = result["settings"], result["summary"]
    lines = [
        "# Pruning a multi-objective search (digits_cnn: val accuracy vs parameters)",
        "",
        f"{s['trials']} trials x {s['epochs']} epochs per search, NSGA-II (population 8), "
        f"seeds {s['seeds']}, mo_asha eta {s['eta']}, min_epochs {s['min_epochs']}; "
        f"{s['machine']}, {s['date']}. Load average at the start: {s['load']}."
        + (
            f" Seeds with both runs done: {summary['seeds']} of {len(s['seeds'])}."
            if summary and summary["seeds"] < len(s["seeds"])
            else ""
        ),
        f"Produced by `python experiments/benchmarks/mo_pruning.py{_flags(s)}`.",
        "",
        "Hypervolume of the front of complete trials, points (1 - val_accuracy, "
        "log10(n_params) / 6), reference (1, 1) (accuracy 0, 10^6 parameters); hv@0.9: "
        "reference accuracy 0.9 instead.",
        "",
        "| seed | pruner | trials | complete | pruned | epochs | front | hypervolume | hv@0.9 "
        "| seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['seed']} | {r['pruner']} | {r['trials']} | {r['complete']} | {r['pruned']} "
            f"| {r['epochs']} | {len(r['front'])} | {r['hypervolume']:.4f} "
            f"| {r['hypervolume_strict']:.4f} | {r['seconds']:.0f} |"
        )
    if summary:
        strict = summary["hypervolume_strict_ratio_mean"]
        lines += [
            "",
            f"Over {summary['seeds']} seeds, mo_asha reached "
            f"{summary['hypervolume_ratio_mean']:.1%} of the unpruned hypervolume on average "
            f"(lowest seed {summary['hypervolume_ratio_min']:.1%}; hv@0.9: "
            + (f"{strict:.1%}" if strict is not None else "n/a")
            + f") with {summary['epochs_ratio']:.1%} of its epochs. Target (>= 95% of the "
            "hypervolume for <= 60% of the epochs): "
            + ("met." if summary["target_met"] else "not met."),
        ]
    lines += [
        "",
        "Seconds are wall time on a shared machine, noisy; epochs and hypervolume are the "
        "measure. Both variants of a seed share one process, so the second reuses programs "
        "the first compiled.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds x 8 trials of 6 epochs")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--eta", type=int, default=None, help="[the pruner's default]")
    parser.add_argument("--min-epochs", type=int, default=None, help="[the pruner's default]")
    parser.add_argument("--output", default="mo_pruning", help="results/NAME.{json,md}")
    parser.add_argument(
        "--render", action="store_true", help="only rewrite results/NAME.md from NAME.json"
    )
    args = parser.parse_args()
    if args.render:
        result = json.loads((RESULTS / f"{args.output}.json").read_text())
        (RESULTS / f"{args.output}.md").write_text(markdown(result))
        return
    if args.quick:
        args.seeds, args.trials, args.epochs = 2, 8, 6
    import optuna

    from nas.config import MO_ASHA_DEFAULTS

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    options = {
        "eta": args.eta or MO_ASHA_DEFAULTS["eta"],
        "min_epochs": args.min_epochs or MO_ASHA_DEFAULTS["min_epochs"],
    }
    result = {
        "settings": {
            "experiment": "experiments/digits_cnn.yaml",
            "seeds": list(range(args.seeds)),
            "trials": args.trials,
            "epochs": args.epochs,
            **options,
            "quick": args.quick,
            "machine": f"{platform.machine()}, cpu, {os.cpu_count()} cores",
            "date": datetime.date.today().isoformat(),
            "load": round(os.getloadavg()[0], 2),
        },
        "runs": [],
        "summary": {},
    }
    RESULTS.mkdir(exist_ok=True)
    for seed in range(args.seeds):
        variants = ["none", {"name": "mo_asha", **options}]
        for pruner in variants if seed % 2 == 0 else variants[::-1]:
            with tempfile.TemporaryDirectory() as tmp:
                run = run_once(seed, pruner, args, Path(tmp))
            result["runs"].append(run)
            result["summary"] = summarise(result["runs"])
            if not args.quick:  # a check: printed, never in place of the results
                (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
                (RESULTS / f"{args.output}.md").write_text(markdown(result))
            print(
                f"seed {seed} {run['pruner']}: {run['epochs']} epochs, "
                f"hv {run['hypervolume']:.4f}, {run['seconds']:.0f} s",
                flush=True,
            )
    print(markdown(result))


if __name__ == "__main__":
    main()
