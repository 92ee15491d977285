"""How many training steps one compiled call runs, chosen per candidate.

A trainer runs an epoch as calls of a compiled program: one step per call (the host dispatches
every step, as a hand-written ``jax.jit`` loop does) or a ``fori_loop`` over ``k`` steps per
call (``k`` = the epoch's steps: one call per epoch). Which is faster depends on what the
candidate is, not on one rule for all:

- Dispatch costs the host a fraction of a millisecond per call, so a small dense network
  (a step of 0.3-1 ms) runs up to 1.4x faster when a loop keeps an epoch's steps on the device;
  recurrent networks (already a loop over the sequence) about 1.16x.
- XLA:CPU lowers a convolution's weight gradient inside a loop body to its generic loop
  emitter instead of the Eigen kernel it uses at the top level of a program (the loop body
  keeps the convolution's non-canonical ``f0b_i0o->0bf`` dimension order; at the top level
  XLA transposes it to ``b0f_0io->b0f``). A 64-channel k7 1-D convolution step took 6.5 ms as a
  program of its own and 322 ms inside a ``fori_loop`` of one step; whole conv candidates run
  12-15x slower in a loop. So any candidate with a convolution runs one step per call on a
  CPU, where the dispatch is a few percent of its step.

The measured table behind the rule (``python experiments/benchmarks/steps_per_call.py``:
toolkit programs, 5 epochs, cold compilation cache, median of 2 rounds, idle 2-core CPU;
steps/call: the setting, and in brackets what it ran; fast comp: ``NAS_XLA_FAST_COMPILE``;
slowdown: against the workload's fastest row; ``results/steps_per_call.md`` has compile times).
A loop of 8 steps gains nothing over a whole epoch anywhere, so the rule has two outcomes.

================  ============  =========  =========  ========
workload          steps/call    fast comp  epoch s    slowdown
================  ============  =========  =========  ========
digits MLP        1 (1)         auto       0.0178     1.39x
digits MLP        8 (8)         auto       0.0158     1.23x
digits MLP        epoch (35)    auto       0.0132     1.03x
digits MLP        auto (35)     on         0.0129     1.00x
digits MLP        auto (35)     off        0.0146     1.13x
MNIST-1D MLP      1 (1)         auto       0.0414     1.21x
MNIST-1D MLP      8 (8)         auto       0.0351     1.03x
MNIST-1D MLP      epoch (50)    auto       0.0358     1.05x
MNIST-1D MLP      auto (50)     on         0.0362     1.06x
MNIST-1D MLP      auto (50)     off        0.0342     1.00x
digits 2-D CNN    1 (1)         auto       0.0737     1.15x
digits 2-D CNN    8 (8)         auto       0.9437     14.70x
digits 2-D CNN    epoch (17)    auto       0.9628     15.00x
digits 2-D CNN    auto (1)      on         0.0642     1.00x
digits 2-D CNN    auto (1)      off        0.0777     1.21x
MNIST-1D 1-D CNN  1 (1)         auto       0.3140     1.16x
MNIST-1D 1-D CNN  8 (8)         auto       3.5009     12.93x
MNIST-1D 1-D CNN  epoch (50)    auto       3.3044     12.21x
MNIST-1D 1-D CNN  auto (1)      on         0.3672     1.36x
MNIST-1D 1-D CNN  auto (1)      off        0.2707     1.00x
MNIST-1D GRU      1 (1)         auto       0.1912     1.84x
MNIST-1D GRU      8 (8)         auto       0.1743     1.68x
MNIST-1D GRU      epoch (50)    auto       0.1649     1.59x
MNIST-1D GRU      auto (50)     on         0.1532     1.47x
MNIST-1D GRU      auto (50)     off        0.1040     1.00x
================  ============  =========  =========  ========

On accelerators the choice is one call per epoch, where per-call dispatch is the larger cost
and convolutions run in library kernels inside loops too; that is not measured here (no
accelerator on the benchmark machine).

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
