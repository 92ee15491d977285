"""How hard XLA should work at compiling a training run, given how long the run will be.

On a CPU, a small candidate's training takes a fraction of the time XLA spends compiling it,
so a search pays mostly for compilation. XLA's CPU defaults optimise for run time; for short
runs :data:`FAST_COMPILE` compiles with the classic loop emitters, one LLVM module and LLVM's
``-O1``: about 35% less compile CPU for steps a few percent to 10% slower, measured in
``experiments/benchmarks/toolkit_vs_plain.py`` (``toolkit`` against ``toolkit_xla_defaults``).
Runs long enough that those percent outweigh the compile saving keep XLA's defaults.

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

LONG_RUN_FLOPS = 1e11
"""Training FLOPs above which a run keeps XLA's defaults: about a second of CPU compute at
the rates small dense models reach, where a 10% slower step costs what fast compilation saves."""


def training_flops(forward_flops_per_example: int, examples: int, epochs: int) -> float:
    """Estimated FLOPs of a training run: forward plus backward (about twice the forward)."""
    return 3.0 * forward_flops_per_example * examples * epochs


def compiler_options(backend: str, train_flops: float) -> dict[str, Any]:
    """XLA compile options for a training run of ``train_flops`` on ``backend`` (``cpu``,
    ``gpu``, ``tpu``); ``{}`` means XLA's defaults. Raises ``ValueError`` naming a bad
    ``NAS_XLA_FAST_COMPILE`` value."""
    setting = os.environ.get("NAS_XLA_FAST_COMPILE", "auto").strip().lower() or "auto"
    if setting not in ("auto", "on", "off"):
        raise ValueError(f"NAS_XLA_FAST_COMPILE must be auto, on or off, got {setting!r}")
    if backend != "cpu" or setting == "off":
        return {}
    if setting == "on" or train_flops <= LONG_RUN_FLOPS:
        return dict(FAST_COMPILE)
    return {}
