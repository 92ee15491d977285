"""Steps per compiled call: chosen per candidate, and training means the same either way."""

from __future__ import annotations

import numpy as np
import pytest

from nas.model import Architecture, Conv, Dense, GlobalPool, Recurrent
from nas.training import TrainConfig, Trainer
from nas.training.strategy import steps_per_call

MLP = Architecture(layers=(Dense(32, dropout=0.2), Dense(16)), batch_size=32)
CNN = Architecture(layers=(Conv(8, norm="batch"), GlobalPool()), batch_size=32)
RNN = Architecture(layers=(Recurrent(8),), batch_size=32)


@pytest.mark.parametrize(
    ("arch", "backend", "expected"),
    [(MLP, "cpu", 50), (RNN, "cpu", 50), (CNN, "cpu", 1), (CNN, "gpu", 50), (MLP, "tpu", 50)],
)
def test_the_choice_by_candidate_and_backend(arch, backend, expected, monkeypatch):
    monkeypatch.delenv("NAS_STEPS_PER_CALL", raising=False)
    assert steps_per_call(arch, backend, 50) == expected


@pytest.mark.parametrize(("setting", "expected"), [("1", 1), ("7", 7), ("80", 50), ("epoch", 50)])
def test_the_setting_overrides_it(setting, expected, monkeypatch):
    monkeypatch.setenv("NAS_STEPS_PER_CALL", setting)
    assert steps_per_call(CNN, "cpu", 50) == expected


@pytest.mark.parametrize("setting", ["0", "-2", "many"])
def test_a_bad_setting_is_named(setting, monkeypatch):
    monkeypatch.setenv("NAS_STEPS_PER_CALL", setting)
    with pytest.raises(ValueError, match="NAS_STEPS_PER_CALL"):
        steps_per_call(MLP, "cpu", 50)


def _train(monkeypatch, setting: str, arch: Architecture, data, epochs: int = 2):
    monkeypatch.setenv("NAS_STEPS_PER_CALL", setting)
    return Trainer(TrainConfig(epochs=epochs)).train(arch, data, seed=3)


@pytest.mark.parametrize("arch", [MLP, CNN], ids=["mlp", "cnn"])
def test_every_setting_trains_the_same_steps(arch, monkeypatch, digits_image, digits):
    """One step per call, 6 per call (which does not divide the epoch: the last call is
    padded) and one call per epoch run the same steps on the same batches with the same
    dropout masks: equal losses and weights up to float reassociation."""
    data = digits_image if arch is CNN else digits
    results = [_train(monkeypatch, s, arch, data) for s in ("1", "6", "epoch")]
    steps = len(data.y_train) // arch.batch_size
    assert steps % 6 != 0
    first = results[0]
    for other in results[1:]:
        for a, b in zip(first.history, other.history, strict=True):
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
            assert a["val_accuracy"] == pytest.approx(b["val_accuracy"], abs=1.5 / len(data.y_val))
        np.testing.assert_allclose(
            first.variables["params"]["head"]["kernel"],
            other.variables["params"]["head"]["kernel"],
            rtol=1e-3,
            atol=1e-5,
        )
