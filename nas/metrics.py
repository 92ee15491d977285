"""The metrics a trial records, once: which a search may optimise, which exist after every
epoch, which way each is better, and how a person reads each name."""

from __future__ import annotations

DIRECTIONS = ("maximize", "minimize")

OBJECTIVES = ("val_accuracy", "val_loss", "n_params", "flops", "train_seconds")
"""Metrics an experiment may name as objectives."""

EPOCH_OBJECTIVES = ("val_accuracy", "val_loss")
"""Objectives reported after every epoch: the only ones a pruner can act on."""

EPOCH_METRICS = ("val_accuracy", "val_loss", "train_loss")
"""What every epoch of a trial reports (its learning curves)."""

METRIC_DIRECTIONS = {
    "val_accuracy": "maximize",
    "test_accuracy": "maximize",
    "val_loss": "minimize",
    "test_loss": "minimize",
    "train_loss": "minimize",
    "n_params": "minimize",
    "flops": "minimize",
    "train_seconds": "minimize",
    "compile_seconds": "minimize",
    "wall_seconds": "minimize",
}
"""Which way each metric is better, whether or not a study optimised it."""

LABELS = {
    "val_accuracy": "validation accuracy",
    "test_accuracy": "test accuracy",
    "val_loss": "validation loss",
    "test_loss": "test loss",
    "train_loss": "training loss",
    "n_params": "parameters",
    "flops": "FLOPs per example",
    "train_seconds": "training seconds",
    "compile_seconds": "compile seconds",
    "wall_seconds": "seconds per trial",
}


def label(metric: str) -> str:
    """How a person reads ``metric`` (the name itself where none is known)."""
    return LABELS.get(metric, metric)
