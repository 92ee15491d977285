"""Compile effort follows the run's length; fast compilation does not change the training."""

from __future__ import annotations

import pytest

from nas.model import Architecture, Dense
from nas.training import TrainConfig, Trainer
from nas.training.xla_options import (
    FAST_COMPILE,
    FAST_EVAL,
    LONG_RUN_FLOPS,
    compiler_options,
    training_flops,
)


@pytest.mark.parametrize(
    ("setting", "backend", "flops", "fast"),
    [
        (None, "cpu", 1e6, True),
        ("auto", "cpu", LONG_RUN_FLOPS, True),
        ("auto", "cpu", LONG_RUN_FLOPS * 1.01, False),
        ("on", "cpu", 1e15, True),
        ("off", "cpu", 1e6, False),
        ("ON", "cpu", 1e15, True),
        ("auto", "gpu", 1e6, False),
        ("on", "tpu", 1e6, False),
    ],
)
def test_options_by_setting_backend_and_run_length(monkeypatch, setting, backend, flops, fast):
    if setting is None:
        monkeypatch.delenv("NAS_XLA_FAST_COMPILE", raising=False)
    else:
        monkeypatch.setenv("NAS_XLA_FAST_COMPILE", setting)
    assert compiler_options(backend, flops) == (FAST_COMPILE if fast else {})


@pytest.mark.parametrize(
    ("setting", "backend", "flops", "expected"),
    [
        ("auto", "cpu", 1e6, FAST_EVAL),
        ("on", "cpu", 1e15, FAST_EVAL),
        ("auto", "cpu", LONG_RUN_FLOPS * 1.01, {}),
        ("off", "cpu", 1e6, {}),
        ("auto", "gpu", 1e6, {}),
    ],
)
def test_evaluation_programs_compile_at_o0_where_training_compiles_fast(
    monkeypatch, setting, backend, flops, expected
):
    monkeypatch.setenv("NAS_XLA_FAST_COMPILE", setting)
    assert compiler_options(backend, flops, program="eval") == expected
    if expected:
        assert expected["xla_backend_optimization_level"] == 0
        assert compiler_options(backend, flops)["xla_backend_optimization_level"] == 1


def test_unknown_program_is_refused():
    with pytest.raises(ValueError, match="program must be train or eval"):
        compiler_options("cpu", 1.0, program="init")


def test_bad_setting_is_named(monkeypatch):
    monkeypatch.setenv("NAS_XLA_FAST_COMPILE", "fast")
    with pytest.raises(ValueError, match="NAS_XLA_FAST_COMPILE must be auto, on or off"):
        compiler_options("cpu", 1.0)


def test_training_flops_counts_forward_and_backward():
    assert training_flops(1000, examples=50, epochs=4) == 3 * 1000 * 50 * 4


def test_fast_compilation_trains_the_same_model(monkeypatch, synthetic):
    """The options change how XLA generates code, not what it computes: the same candidate,
    seed and data reach the same losses and weights up to float rounding."""
    arch = Architecture(layers=(Dense(32, norm="layer", dropout=0.1), Dense(16)), skip="residual")
    results = {}
    for setting in ("on", "off"):
        monkeypatch.setenv("NAS_XLA_FAST_COMPILE", setting)
        results[setting] = Trainer(TrainConfig(epochs=3)).train(arch, synthetic, seed=3)
    on, off = results["on"], results["off"]
    for a, b in zip(on.history, off.history, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
    assert on.metrics["val_accuracy"] == pytest.approx(off.metrics["val_accuracy"], abs=0.02)
