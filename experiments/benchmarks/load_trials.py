"""How long loading a big study into a DataFrame takes.

    python experiments/benchmarks/load_trials.py            # 10,000 trials
    python experiments/benchmarks/load_trials.py --trials 2000 --no-optuna

Builds a study of synthetic trials in a fresh SQLite file: architectures sampled from
``search_spaces/mlp.yaml`` with every user attribute a search records (metrics, 20-epoch
curves, timings, sizes, node, weights, failure reasons for the failed tenth). Then times
:func:`nas.load_trials` with its bulk SQL reader, the same function through Optuna's
``get_trials``, and Optuna's own ``study.trials_dataframe()``, and checks that both readers
give equal frames. Results go to ``results/load_trials.json`` and ``results/load_trials.md``
beside this file. About four minutes on a 2-core CPU, most of it writing the study.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState, create_trial

import nas
from nas.model import Architecture, Dense
from nas.space import RandomSuggest, load_space

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
EPOCHS = 20
INPUTS, CLASSES = 64, 10


class RecordingSuggest(RandomSuggest):
    """Random draws plus the Optuna distribution of each, as a real trial would store."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.distributions: dict[str, BaseDistribution] = {}

    def categorical(self, name, choices):
        self.distributions[name] = CategoricalDistribution(list(choices))
        return super().categorical(name, choices)

    def int(self, name, low, high, *, step=1, log=False):
        self.distributions[name] = IntDistribution(low, high, step=step, log=log)
        return super().int(name, low, high, step=step, log=log)

    def float(self, name, low, high, *, step=None, log=False):
        self.distributions[name] = FloatDistribution(low, high, step=step, log=log)
        return super().float(name, low, high, step=step, log=log)


def n_params(arch: Architecture) -> int:
    """Dense layers, residual projections and head (the mlp space has no other layer)."""
    total, width = 0, INPUTS
    for layer in arch.layers:
        assert isinstance(layer, Dense)
        total += (width + 1) * layer.features + (2 * layer.features if layer.norm != "none" else 0)
        if arch.skip == "residual" and width != layer.features:
            total += width * layer.features
        width = layer.features + (width if arch.skip == "dense" else 0)
    return total + (width + 1) * CLASSES


def synthetic_trial(number: int, space: Any, rng: random.Random) -> optuna.trial.FrozenTrial:
    suggest = RecordingSuggest(number)
    arch = space.sample(suggest)
    size = n_params(arch)
    quality = rng.random()
    roll = rng.random()
    state = TrialState.COMPLETE if roll < 0.8 else TrialState.PRUNED if roll < 0.9 else None
    epochs = EPOCHS if state == TrialState.COMPLETE else rng.randint(1, EPOCHS - 1)
    curves = []
    for epoch in range(1, epochs + 1):
        progress = 1 - math.exp(-epoch / 4)
        curves.append(
            {
                "epoch": epoch,
                "train_loss": 2.3 * (1 - progress) + 0.1 * quality,
                "val_loss": 2.3 * (1 - progress) + 0.2 * quality,
                "val_accuracy": 0.1 + 0.85 * progress * (0.8 + 0.2 * quality),
            }
        )
    attrs: dict[str, Any] = {
        "driver": "bench:1",
        "architecture": arch.to_json(),
        "signature": arch.signature_hash(),
        "n_params": size,
        "flops": 2 * size,
    }
    values = None
    if state is None:
        state = TrialState.FAIL
        attrs["fail_reason"] = "non-finite loss at epoch 3"
        attrs["traceback"] = "Traceback (most recent call last):\n" + "  ...\n" * 20
    else:
        last = curves[-1]
        attrs.update(
            {
                "train_loss": last["train_loss"],
                "val_loss": last["val_loss"],
                "val_accuracy": last["val_accuracy"],
                "compile_seconds": rng.uniform(0.5, 2.0),
                "train_seconds": rng.uniform(0.2, 3.0),
                "eval_seconds": rng.uniform(0.01, 0.1),
                "wall_seconds": rng.uniform(1.0, 5.0),
                "epochs_run": epochs,
                "device": "cpu",
                "node": f"node{number % 4}",
                "curves": json.dumps(curves, separators=(",", ":")),
            }
        )
        if state == TrialState.COMPLETE:
            values = [last["val_accuracy"]]
            if number % 50 == 0:
                attrs["weights"] = f"trial_{number}.msgpack"
    return create_trial(
        state=state,
        values=values,
        params=suggest.params,
        distributions=suggest.distributions,
        user_attrs=attrs,
    )


def build_study(storage: str, trials: int) -> float:
    """Write ``trials`` synthetic trials; returns the seconds taken."""
    space = load_space(ROOT / "search_spaces" / "mlp.yaml")
    rng = random.Random(0)
    start = time.perf_counter()
    study = optuna.create_study(study_name="bench", storage=storage, direction="maximize")
    study.set_user_attr("objectives", [["val_accuracy", "maximize"]])
    frozen = [synthetic_trial(i, space, rng) for i in range(trials)]
    study.add_trials(frozen)
    return time.perf_counter() - start


def timed(fn: Any, repeat: int = 2) -> tuple[Any, float]:
    """``fn()``'s result and its best time over ``repeat`` calls (the first pays for imports
    and a cold file cache)."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--no-optuna", action="store_true", help="skip the slow Optuna paths")
    parser.add_argument("--output", type=Path, default=RESULTS / "load_trials.json")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{tmp}/bench.db"
        write_seconds = build_study(storage, args.trials)
        print(f"wrote {args.trials} trials in {write_seconds:.1f} s")
        results: dict[str, Any] = {
            "trials": args.trials,
            "write_seconds": round(write_seconds, 2),
            "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}, {platform.system()}), "
            f"python {platform.python_version()}",
            "optuna": optuna.__version__,
            "pandas": pd.__version__,
        }
        frame, seconds = timed(lambda: nas.load_trials(storage, "bench"))
        results["load_trials_sql_seconds"] = round(seconds, 3)
        results["columns"] = frame.shape[1]
        print(f"nas.load_trials (sql reader): {seconds:.2f} s, {frame.shape}")
        curves, seconds = timed(lambda: nas.load_curves(storage, "bench"))
        results["load_curves_sql_seconds"] = round(seconds, 3)
        results["curve_rows"] = len(curves)
        print(f"nas.load_curves (sql reader): {seconds:.2f} s, {len(curves)} rows")
        if not args.no_optuna:
            slow, seconds = timed(lambda: nas.load_trials(storage, "bench", reader="optuna"))
            results["load_trials_optuna_reader_seconds"] = round(seconds, 3)
            print(f"nas.load_trials (optuna reader): {seconds:.2f} s")
            pd.testing.assert_frame_equal(frame, slow)
            results["frames_equal"] = True
            # A fresh study per call: a loaded study caches its trials after the first.
            _, seconds = timed(
                lambda: optuna.load_study(study_name="bench", storage=storage).trials_dataframe()
            )
            results["optuna_trials_dataframe_seconds"] = round(seconds, 3)
            print(f"optuna study.trials_dataframe(): {seconds:.2f} s")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(markdown(results))
    print(f"results in {args.output}")


def markdown(results: dict[str, Any]) -> str:
    rows = [
        ("`nas.load_trials` (bulk SQL reader)", "load_trials_sql_seconds"),
        ("`nas.load_curves` (bulk SQL reader)", "load_curves_sql_seconds"),
        ("`nas.load_trials(reader='optuna')`", "load_trials_optuna_reader_seconds"),
        ("Optuna `study.trials_dataframe()`", "optuna_trials_dataframe_seconds"),
    ]
    lines = [
        f"# Loading a study of {results['trials']:,} trials (SQLite)",
        "",
        "Produced by `python experiments/benchmarks/load_trials.py`; "
        f"{results['machine']}, Optuna {results['optuna']}, pandas {results['pandas']}. "
        "Best of two runs each.",
        "",
        "| what | seconds |",
        "| --- | ---: |",
    ]
    lines += [f"| {label} | {results[key]:.2f} |" for label, key in rows if key in results]
    lines += [
        "",
        f"The frame has {results['columns']} columns; the curves frame "
        f"{results['curve_rows']:,} rows. Writing the study took {results['write_seconds']:.0f} s.",
    ]
    if results.get("frames_equal"):
        lines.append("Both readers gave equal frames (`pandas.testing.assert_frame_equal`).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
