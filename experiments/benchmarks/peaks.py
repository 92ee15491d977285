"""The machine's arithmetic peaks in GFLOP/s, best of repeated calls after compilation: a
1024x1024 float32 matmul, a 64-channel kernel-7 1-D convolution (batch 128, length 64) and a
64-channel 3x3 2-D convolution (batch 32, 32x32), the convolutions forward and backward
(input and weight gradients: 3x the forward FLOPs, "same" padding counted as real inputs).

    python experiments/benchmarks/peaks.py SECONDS OUT.json   # about SECONDS of calls each
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp


def rate(fn: Callable, shapes: list[tuple[int, ...]], flops: int, seconds: float) -> float:
    """GFLOP/s of the fastest of the calls of ``fn`` made in about ``seconds`` (at least 3)."""
    args = [jnp.ones(s, jnp.float32) for s in shapes]
    jax.block_until_ready(fn(*args))  # compile
    best, spent, calls = float("inf"), 0.0, 0
    while spent < seconds or calls < 3:
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        took = time.perf_counter() - start
        best, spent, calls = min(best, took), spent + took, calls + 1
    return flops / best / 1e9


def conv_forward_backward(dims: tuple[str, str, str]) -> Callable:
    """A jitted ``(x, w, cotangent) -> (y, dx, dw)`` of a stride-1 "same" convolution."""

    def conv(x: jax.Array, w: jax.Array) -> jax.Array:
        strides = (1,) * (len(dims[0]) - 2)
        return jax.lax.conv_general_dilated(x, w, strides, "SAME", dimension_numbers=dims)

    def run(x: jax.Array, w: jax.Array, cotangent: jax.Array) -> tuple[jax.Array, ...]:
        y, vjp = jax.vjp(conv, x, w)
        return y, *vjp(cotangent)

    return jax.jit(run)


def peaks(seconds: float) -> dict[str, float]:
    b1, length, b2, side, c = 128, 64, 32, 32, 64
    return {
        "matmul": rate(jax.jit(jnp.dot), [(1024, 1024)] * 2, 2 * 1024**3, seconds),
        "conv1d": rate(
            conv_forward_backward(("NWC", "WIO", "NWC")),
            [(b1, length, c), (7, c, c), (b1, length, c)],
            3 * 2 * b1 * length * 7 * c * c,
            seconds,
        ),
        "conv2d": rate(
            conv_forward_backward(("NHWC", "HWIO", "NHWC")),
            [(b2, side, side, c), (3, 3, c, c), (b2, side, side, c)],
            3 * 2 * b2 * side * side * 9 * c * c,
            seconds,
        ),
    }


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(json.dumps(peaks(float(sys.argv[1]))))
