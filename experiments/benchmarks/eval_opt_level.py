"""What LLVM's optimisation level costs and buys for evaluation programs.

For ``--candidates`` digits MLP candidates sampled from ``search_spaces/mlp.yaml`` (random
sampler, ``--seed``), the trainer's evaluation program (one forward pass over a batch of 512
with loss and accuracy) is lowered once and compiled twice in one process, alternating:
with the training program's options (``FAST_COMPILE``, LLVM ``-O1``) and with ``FAST_EVAL``
(LLVM ``-O0``). For each it records compile wall and CPU seconds, the run time of one call
(median of ``--calls``) and checks both give the same loss and accuracy. A search evaluates
once per epoch, so the per-trial saving is the compile difference minus ``epochs`` times the
per-call difference. Results go to ``results/eval_opt_level.json`` (+ ``.md``).

    python experiments/benchmarks/eval_opt_level.py        # about 30 s on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import jax
import numpy as np
import optuna

from nas.data import load_dataset
from nas.model import build_model, init_variables, variable_shapes
from nas.search import OptunaSuggest
from nas.space import load_space
from nas.training import FAST_COMPILE, FAST_EVAL, ParamLayout, TrainConfig, Trainer
from nas.training.programs import make_eval

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
VARIANTS = {"O1 (FAST_COMPILE)": FAST_COMPILE, "O0 (FAST_EVAL)": FAST_EVAL}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(lowered, options: dict, args: tuple, calls: int) -> dict:
    start, cpu = time.perf_counter(), _cpu()
    compiled = lowered.compile(compiler_options=options)
    compile_wall, compile_cpu = time.perf_counter() - start, _cpu() - cpu
    out = jax.block_until_ready(compiled(*args))
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - start)
    return {
        "compile_wall": compile_wall,
        "compile_cpu": compile_cpu,
        "call_seconds": statistics.median(times),
        "loss": float(out[0]),
        "correct": float(out[1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(ROOT / "search_spaces/mlp.yaml")
    data = load_dataset("digits", kind=space.input_kind, val_fraction=0.2, seed=0)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=args.seed))
    trainer = Trainer(TrainConfig(epochs=args.epochs))
    size = trainer.config.eval_batch_size
    x = np.zeros((size, *data.input_shape), np.float32)
    x[: len(data.x_val)] = data.x_val[:size]
    y = np.zeros((size,), np.int32)
    y[: len(data.y_val)] = data.y_val[:size]
    mask = (np.arange(size) < len(data.x_val)).astype(np.float32)
    rows = []
    for index in range(args.candidates):
        arch = space.sample(OptunaSuggest(study.ask()))
        model = build_model(arch, data.num_classes)
        shapes = variable_shapes(model, tuple(data.input_shape))
        layout = ParamLayout.of(shapes["params"])
        variables = init_variables(shapes, seed=index)
        packed = (layout.ravel(variables.pop("params")), variables)
        eval_jit = make_eval(model, layout, trainer.trace_counts, arch.signature())
        lowered = eval_jit.lower(packed, x, y, mask)
        order = list(VARIANTS) if index % 2 == 0 else list(VARIANTS)[::-1]
        row = {"architecture": arch.to_json()}
        for name in order:
            row[name] = measure(lowered, VARIANTS[name], (packed, x, y, mask), args.calls)
        rows.append(row)
        print(index, {k: round(v["compile_wall"], 3) for k, v in row.items() if k in VARIANTS})
    o1, o0 = VARIANTS
    summary = {
        name: {
            key: statistics.median(r[name][key] for r in rows)
            for key in ("compile_wall", "compile_cpu", "call_seconds")
        }
        for name in VARIANTS
    }
    same = all(
        r[o1]["correct"] == r[o0]["correct"]
        and abs(r[o1]["loss"] - r[o0]["loss"]) <= 1e-4 * max(1.0, abs(r[o1]["loss"]))
        for r in rows
    )
    saving = (
        summary[o1]["compile_wall"]
        - summary[o0]["compile_wall"]
        - args.epochs * (summary[o0]["call_seconds"] - summary[o1]["call_seconds"])
    )
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {jax.default_backend()}, {os.cpu_count()} cores",
        "setup": vars(args),
        "median": summary,
        "same_results": same,
        "saving_per_trial_seconds": saving,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "eval_opt_level.json").write_text(json.dumps(report, indent=1))
    lines = [
        "# Evaluation programs: LLVM -O1 against -O0 (digits MLP candidates)",
        "",
        f"{args.candidates} candidates from search_spaces/mlp.yaml (random sampler, seed "
        f"{args.seed}), evaluation batch {size}, both levels compiled from one lowering in one "
        f"process, alternating; {report['machine']}, {report['date']}.",
        "Produced by `python experiments/benchmarks/eval_opt_level.py`.",
        "",
        "| options | compile wall s | compile CPU s | one call ms |",
        "|---|---|---|---|",
    ]
    for name in VARIANTS:
        s = summary[name]
        lines.append(
            f"| {name} | {s['compile_wall']:.3f} | {s['compile_cpu']:.3f} "
            f"| {s['call_seconds'] * 1e3:.2f} |"
        )
    lines += [
        "",
        f"Medians over candidates. Compile ratio O1/O0: "
        f"{summary[o1]['compile_wall'] / summary[o0]['compile_wall']:.2f}x; per call O0/O1: "
        f"{summary[o0]['call_seconds'] / summary[o1]['call_seconds']:.2f}x. With one "
        f"evaluation per epoch over {args.epochs} epochs, -O0 saves {saving:.3f} s per trial "
        "that compiles.",
        f"Same loss (within 1e-4 relative) and the same number correct at both levels: {same}.",
    ]
    (RESULTS / "eval_opt_level.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
