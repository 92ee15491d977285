"""How many training steps one compiled call runs, chosen per candidate.

A trainer runs an epoch as calls of a compiled program: one step per call (the host dispatches
every step, as a hand-written ``jax.jit`` loop does) or a ``fori_loop`` over ``k`` steps per
call (``k`` = the epoch's steps: one call per epoch). Which is faster depends on what the
candidate is, not on one rule for all:

- Dispatch costs the host about 0.1-0.3 ms per call on this 2-core CPU, so a small dense
  network (a step of 0.1-0.5 ms) runs several times faster when a loop keeps the steps on the
  device.
- XLA:CPU lowers a convolution's weight gradient inside a loop body to its generic loop
  emitter instead of the Eigen kernel it uses at the top level of a program (the loop body
  keeps the convolution's non-canonical ``f0b_i0o->0bf`` dimension order; at the top level
  XLA transposes it to ``b0f_0io->b0f``). A 64-channel k7 1-D convolution step took 6.5 ms as a
  program of its own and 322 ms inside a ``fori_loop`` of one step, so any candidate with a
  convolution runs one step per call on a CPU, where the dispatch is a percent of its step.
- Recurrent layers already are a loop (``nn.RNN`` scans the sequence) in both forms.

The measured table behind the rule (seconds per epoch, toolkit programs, cold cache, 2-core
CPU; ``python experiments/benchmarks/steps_per_call.py``) is in
``experiments/benchmarks/results/steps_per_call.md``.

``NAS_STEPS_PER_CALL`` overrides the choice (``auto`` default, ``1``, an int ``k``, or
``epoch``) for measuring; a value larger than an epoch's steps means one call per epoch.
"""

from __future__ import annotations

import os

from nas.model import Architecture

# Layer types whose gradients are convolutions.
CONVOLUTIONAL = frozenset({"conv", "cell"})


def _has_convolution(arch: Architecture) -> bool:
    return any(layer.type in CONVOLUTIONAL for layer in arch.layers)


def steps_per_call(arch: Architecture, backend: str, steps: int) -> int:
    """Steps per compiled training call for ``arch`` on ``backend`` with ``steps`` steps per
    epoch: 1 (a per-step program) or ``k`` in ``2..steps`` (``steps``: one call per epoch).
    Raises ``ValueError`` naming a bad ``NAS_STEPS_PER_CALL``."""
    setting = os.environ.get("NAS_STEPS_PER_CALL", "auto").strip().lower() or "auto"
    if setting == "epoch":
        return steps
    if setting != "auto":
        try:
            k = int(setting)
        except ValueError:
            k = 0
        if k < 1:
            raise ValueError(
                f"NAS_STEPS_PER_CALL must be auto, epoch or a positive int, got {setting!r}"
            )
        return min(k, steps)
    if backend == "cpu" and _has_convolution(arch):
        return 1
    return steps
