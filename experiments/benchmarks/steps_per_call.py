"""The measurements behind :mod:`nas.training.strategy`: how fast each workload class trains
with one step per compiled call, ``k`` steps per call, or one call per epoch.

Each (workload, setting) trains one representative candidate through the toolkit's
:class:`~nas.training.Trainer` in a fresh process with a fresh (cold) compilation cache and
``NAS_STEPS_PER_CALL`` set; settings alternate within each round so machine noise hits all
alike. Reported per row: compile seconds, training seconds per epoch (median over rounds) and
the speed relative to the fastest setting of that workload.

    python experiments/benchmarks/steps_per_call.py            # about 6 minutes, 2-core CPU
    python experiments/benchmarks/steps_per_call.py --quick    # one round, 2 epochs, no files
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "experiments" / "benchmarks" / "results"
# (NAS_STEPS_PER_CALL, NAS_XLA_FAST_COMPILE): the three ways to run steps under the automatic
# compile options, then the automatic choice under each compile option.
SETTINGS = (("1", "auto"), ("8", "auto"), ("epoch", "auto"), ("auto", "on"), ("auto", "off"))

# One representative candidate per workload class: (dataset, input kind, architecture).
WORKLOADS: dict[str, tuple[str, str, dict]] = {
    "digits MLP": (
        "digits",
        "flat",
        {
            "layers": [{"type": "dense", "features": 128}, {"type": "dense", "features": 64}],
            "batch_size": 32,
        },
    ),
    "MNIST-1D MLP": (
        "mnist1d",
        "flat",
        {
            "layers": [{"type": "dense", "features": 256}, {"type": "dense", "features": 128}],
            "batch_size": 64,
        },
    ),
    "digits 2-D CNN": (
        "digits",
        "image",
        {
            "layers": [
                {"type": "conv", "features": 16},
                {"type": "conv", "features": 32},
                {"type": "pool"},
                {"type": "dense", "features": 64},
            ],
            "batch_size": 64,
        },
    ),
    "MNIST-1D 1-D CNN": (
        "mnist1d",
        "sequence",
        {
            "layers": [
                {
                    "type": "conv",
                    "features": 16,
                    "kernel_size": 3,
                    "norm": "batch",
                    "activation": "silu",
                },
                {
                    "type": "conv",
                    "features": 64,
                    "kernel_size": 7,
                    "norm": "batch",
                    "activation": "silu",
                },
                {
                    "type": "conv",
                    "features": 32,
                    "kernel_size": 7,
                    "norm": "batch",
                    "activation": "silu",
                },
                {"type": "global_pool", "kind": "max"},
            ],
            "skip": "residual",
            "batch_size": 64,
        },
    ),
    "MNIST-1D GRU": (
        "mnist1d",
        "sequence",
        {
            "layers": [
                {"type": "recurrent", "features": 32, "cell": "gru"},
                {"type": "global_pool", "kind": "avg"},
            ],
            "batch_size": 64,
        },
    ),
}

CHILD = r"""
import json, sys, time
from nas.data import load_dataset
from nas.model import Architecture
from nas.training import TrainConfig, Trainer
dataset, kind, arch, epochs = json.loads(sys.argv[1])
data = load_dataset(dataset, kind=kind)
trainer = Trainer(TrainConfig(epochs=epochs))
result = trainer.train(Architecture.from_dict(arch), data, seed=0)
from nas.training.strategy import steps_per_call
import jax
steps = len(data.y_train) // Architecture.from_dict(arch).batch_size
chosen = steps_per_call(Architecture.from_dict(arch), jax.default_backend(), steps)
print(json.dumps({**result.timings, "epochs": result.epochs_run, "chosen": chosen,
                  "val_accuracy": result.metrics["val_accuracy"]}))
"""


def run_one(workload: str, setting: tuple[str, str], epochs: int) -> dict:
    dataset, kind, arch = WORKLOADS[workload]
    steps, xla = setting
    with tempfile.TemporaryDirectory() as cache:
        env = {
            **os.environ,
            "NAS_STEPS_PER_CALL": steps,
            "NAS_XLA_FAST_COMPILE": xla,
            "NAS_COMPILATION_CACHE": cache,
        }
        out = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps([dataset, kind, arch, epochs])],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", choices=sorted(WORKLOADS))
    args = parser.parse_args()
    rounds, epochs = (1, 2) if args.quick else (args.rounds, args.epochs)
    rows = []
    for workload in args.only or WORKLOADS:
        runs: dict[tuple[str, str], list[dict]] = {s: [] for s in SETTINGS}
        for _ in range(rounds):
            for setting in SETTINGS:
                runs[setting].append(run_one(workload, setting, epochs))
        per = {
            s: statistics.median(r["train_seconds"] / r["epochs"] for r in runs[s])
            for s in SETTINGS
        }
        best = min(per.values())
        for setting in SETTINGS:
            rows.append(
                {
                    "workload": workload,
                    "steps_per_call": setting[0],
                    "steps_chosen": runs[setting][0]["chosen"],
                    "fast_compile": setting[1],
                    "compile_seconds": statistics.median(
                        r["compile_seconds"] for r in runs[setting]
                    ),
                    "epoch_seconds": per[setting],
                    "slowdown_vs_best": per[setting] / best,
                    "val_accuracy": statistics.median(r["val_accuracy"] for r in runs[setting]),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    if args.quick:
        return
    lines = [
        "# Steps per compiled call, per workload",
        "",
        f"`python experiments/benchmarks/steps_per_call.py` ({rounds} rounds, {epochs} epochs, "
        "cold compilation cache per run, 2-core CPU). Epoch seconds: median training time per "
        "epoch; steps per call in brackets: what that setting ran; XLA fast compile: "
        "`NAS_XLA_FAST_COMPILE` (auto: by the run's FLOPs); slowdown: against the fastest "
        "setting of the workload.",
        "",
        "| workload | steps per call | XLA fast compile | compile s | epoch s | slowdown |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['steps_per_call']} ({r['steps_chosen']}) | "
            f"{r['fast_compile']} | {r['compile_seconds']:.2f} | "
            f"{r['epoch_seconds']:.4f} | {r['slowdown_vs_best']:.2f}x |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "steps_per_call.json").write_text(json.dumps(rows, indent=1) + "\n")
    (RESULTS / "steps_per_call.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
