"""How hard XLA should work at compiling a training run, given how long the run will be.

On a CPU, a small candidate's training takes a fraction of the time XLA spends compiling it,
so a search pays mostly for compilation. XLA's CPU defaults optimise for run time; for short
runs :data:`FAST_COMPILE` compiles with the classic loop emitters, one LLVM module and LLVM's
``-O1``: about 35% less compile CPU for dense steps a few percent to 10% slower, measured in
``experiments/benchmarks/toolkit_vs_plain.py`` (``toolkit`` against ``toolkit_xla_defaults``);
recurrent steps lose more (about a third), convolutional ones anything from a fifth faster to a
third slower (``experiments/benchmarks/steps_per_call.py``). Runs long enough that those
percent outweigh the compile saving keep XLA's defaults.

Evaluation programs get :data:`FAST_EVAL` (LLVM ``-O0``) on top: they run a forward pass a few
times per epoch, their matrix products go to library kernels that ``-O0`` does not touch,
and what LLVM would optimise is element-wise code worth microseconds per call. On a digits
MLP that cuts an evaluation program's compile from about 0.13 s to 0.04 s for about 0.3 ms
more per evaluation (measured per program in ``experiments/benchmarks/eval_opt_level.py``).

``NAS_XLA_FAST_COMPILE``: ``auto`` (default; by the estimate below), ``on`` or ``off``.
Accelerators always keep XLA's defaults.
"""

from __future__ import annotations

import os
from typing import Any

FAST_COMPILE: dict[str, Any] = {
    "xla_cpu_use_fusion_emitters": False,
    "xla_cpu_parallel_codegen_split_count": 1,
    "xla_backend_optimization_level": 1,
}

FAST_EVAL: dict[str, Any] = {**FAST_COMPILE, "xla_backend_optimization_level": 0}

LONG_RUN_FLOPS = 1e11
"""Training FLOPs above which a run keeps XLA's defaults: about a second of CPU compute at
the rates small dense models reach, where a 10% slower step costs what fast compilation saves."""

RECURRENT_LONG_RUN_FLOPS = 1e10
"""The same for candidates with recurrent layers, whose scanned cell steps run about 1.5x
slower under :data:`FAST_COMPILE` (MNIST-1D GRU: 0.153 against 0.104 s per epoch, for 0.45 s
less compilation; ``experiments/benchmarks/results/steps_per_call.md``), so a run of a
second or two already pays for XLA's defaults."""


def training_flops(forward_flops_per_example: int, examples: int, epochs: int) -> float:
    """Estimated FLOPs of a training run: forward plus backward (about twice the forward)."""
    return 3.0 * forward_flops_per_example * examples * epochs


def compiler_options(
    backend: str, train_flops: float, program: str = "train", *, recurrent: bool = False
) -> dict[str, Any]:
    """XLA compile options for the ``program`` (``train`` or ``eval``) of a training run of
    ``train_flops`` on ``backend`` (``cpu``, ``gpu``, ``tpu``) of a candidate with
    (``recurrent``) or without recurrent layers; ``{}`` means XLA's defaults.
    Raises ``ValueError`` naming a bad ``NAS_XLA_FAST_COMPILE`` value or program."""
    if program not in ("train", "eval"):
        raise ValueError(f"program must be train or eval, got {program!r}")
    setting = os.environ.get("NAS_XLA_FAST_COMPILE", "auto").strip().lower() or "auto"
    if setting not in ("auto", "on", "off"):
        raise ValueError(f"NAS_XLA_FAST_COMPILE must be auto, on or off, got {setting!r}")
    if backend != "cpu" or setting == "off":
        return {}
    limit = RECURRENT_LONG_RUN_FLOPS if recurrent else LONG_RUN_FLOPS
    if setting == "on" or train_flops <= limit:
        return dict(FAST_EVAL if program == "eval" else FAST_COMPILE)
    return {}
