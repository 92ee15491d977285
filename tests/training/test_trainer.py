"""The trainer learns, compiles once per signature, and reports what happened."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest

from nas.errors import TrialFailed
from nas.model import Architecture, Dense
from nas.training import TrainConfig, Trainer

MLP = Architecture(
    layers=(Dense(128, dropout=0.1), Dense(64, norm="layer")),
    skip="residual",
    learning_rate=3e-3,
)


def test_learns_digits_above_0_9(digits):
    result = Trainer(TrainConfig(epochs=15)).train(MLP, digits, seed=0)
    assert result.metrics["val_accuracy"] > 0.9
    assert result.history[0]["train_loss"] > result.history[-1]["train_loss"]
    assert [row["epoch"] for row in result.history] == list(range(1, 16))
    assert result.epochs_run == 15 and not result.stopped
    assert set(result.timings) == {"compile_seconds", "train_seconds", "eval_seconds"}
    assert result.timings["compile_seconds"] > 0


def test_one_program_per_signature(synthetic):
    """Candidates differing only in traced values (learning rate, weight decay, dropout,
    seed) share the compiled epoch and eval programs; a new shape compiles anew."""
    trainer = Trainer(TrainConfig(epochs=2))
    variants = [
        MLP,
        dataclasses.replace(MLP, learning_rate=1e-2, weight_decay=1e-3),
        dataclasses.replace(MLP, layers=(Dense(128, dropout=0.4), Dense(64, norm="layer"))),
    ]
    results = [trainer.train(arch, synthetic, seed=seed) for seed, arch in enumerate(variants)]
    assert {arch.signature() for arch in variants} == {MLP.signature()}
    assert trainer.trace_counts[(MLP.signature(), "train")] == 1
    assert trainer.trace_counts[(MLP.signature(), "eval")] == 1
    assert results[0].timings["compile_seconds"] > 0
    assert all(r.timings["compile_seconds"] == 0.0 for r in results[1:])
    # Traced values really reach the program: the runs differ.
    losses = {round(r.metrics["train_loss"], 6) for r in results}
    assert len(losses) == 3

    wider = dataclasses.replace(MLP, layers=(Dense(96), Dense(64, norm="layer")))
    trainer.train(wider, synthetic)
    assert trainer.trace_counts[(wider.signature(), "train")] == 1
    assert trainer.trace_counts[(MLP.signature(), "train")] == 1


def test_same_seed_same_result(synthetic):
    trainer = Trainer(TrainConfig(epochs=2))
    a = trainer.train(MLP, synthetic, seed=7)
    b = trainer.train(MLP, synthetic, seed=7)
    assert a.metrics == b.metrics
    np.testing.assert_array_equal(
        a.variables["params"]["head"]["kernel"], b.variables["params"]["head"]["kernel"]
    )


def test_non_finite_loss_fails_with_epoch(synthetic):
    bad = types.SimpleNamespace(
        x_train=np.array(synthetic.x_train, copy=True),
        y_train=synthetic.y_train,
        x_val=synthetic.x_val,
        y_val=synthetic.y_val,
        num_classes=synthetic.num_classes,
    )
    bad.x_train[5, 0] = np.inf
    with pytest.raises(TrialFailed, match="non-finite loss at epoch 1"):
        Trainer(TrainConfig(epochs=3)).train(MLP, bad)


def test_callback_sees_each_epoch_and_can_stop(synthetic):
    seen = []

    def on_epoch(epoch, metrics):
        seen.append((epoch, sorted(metrics)))
        return epoch == 2

    result = Trainer(TrainConfig(epochs=5)).train(MLP, synthetic, on_epoch=on_epoch)
    assert [e for e, _ in seen] == [1, 2]
    assert seen[0][1] == ["epoch", "train_loss", "val_accuracy", "val_loss"]
    assert result.stopped and result.epochs_run == 2


def test_evaluate_matches_training_metrics(synthetic):
    trainer = Trainer(TrainConfig(epochs=2, eval_batch_size=64))
    result = trainer.train(MLP, synthetic)
    again = trainer.evaluate(
        MLP, result.variables, synthetic.x_val, synthetic.y_val, synthetic.num_classes
    )
    assert again["accuracy"] == pytest.approx(result.metrics["val_accuracy"])
    assert again["loss"] == pytest.approx(result.metrics["val_loss"], rel=1e-5)


def test_batch_larger_than_data_fails_clearly(synthetic):
    huge = dataclasses.replace(MLP, batch_size=100_000)
    with pytest.raises(TrialFailed, match="batch size 100000 exceeds"):
        Trainer(TrainConfig(epochs=1)).train(huge, synthetic)


def test_prepare_compiles_ahead_and_the_trial_reports_it(synthetic):
    trainer = Trainer(TrainConfig(epochs=1))
    trainer.prepare(MLP, synthetic)
    trainer.prepare(MLP, synthetic)  # already scheduled: no second compilation
    result = trainer.train(MLP, synthetic)
    assert trainer.trace_counts[(MLP.signature(), "train")] == 1
    assert result.timings["compile_seconds"] > 0
    assert trainer.train(MLP, synthetic).timings["compile_seconds"] == 0.0


def test_size_check_and_compilation_share_one_shape_trace(monkeypatch, synthetic):
    """The driver's model_stats and the trainer's compilation of candidates with one
    signature trace the model's variables once; another signature traces again."""
    import nas.model.size
    import nas.training.programs
    import nas.training.trainer
    from nas.model import model_stats

    calls = []
    real = nas.model.size.variable_shapes

    def counting(*args):
        calls.append(args[1])
        return real(*args)

    for module in (nas.model.size, nas.training.trainer, nas.training.programs):
        # raising=False: the trainer has no route of its own today; one added later is counted.
        monkeypatch.setattr(module, "variable_shapes", counting, raising=False)
    monkeypatch.setattr(nas.model.size, "_shape_cache", {})
    arch = Architecture(layers=(Dense(24, norm="layer", dropout=0.1),), learning_rate=1e-3)
    twin = dataclasses.replace(arch, learning_rate=3e-3, layers=(Dense(24, norm="layer"),))
    shape = tuple(synthetic.x_train.shape[1:])
    stats = model_stats(arch, shape, synthetic.num_classes)
    trainer = Trainer(TrainConfig(epochs=1))
    trainer.train(twin, synthetic, seed=0)
    assert calls == [shape]
    assert model_stats(twin, shape, synthetic.num_classes) == stats
    model_stats(Architecture(layers=(Dense(12),)), shape, synthetic.num_classes)
    assert len(calls) == 2
