"""The metrics a trial records, once: which a search may optimise, which exist after every
epoch, which way each is better, and how a person reads each name."""

from __future__ import annotations

DIRECTIONS = ("maximize", "minimize")

OBJECTIVES = (
    "val_accuracy",
    "val_loss",
    "n_params",
    "flops",
    "train_seconds",
    "latency",
    "model_size",
)
"""Metrics an experiment may name as objectives."""

TABLE_OBJECTIVES = ("val_accuracy", "latency", "model_size", "n_params", "flops")
"""Objectives of a search whose candidates are looked up in a benchmark table
(``dataset: nb201/...``): the table's validation accuracy, latency and model size, and the
sizes counted before any lookup."""

TABLE_ONLY_OBJECTIVES = ("latency", "model_size")
"""Objectives only a benchmark table knows."""

EPOCH_OBJECTIVES = ("val_accuracy", "val_loss")
"""Objectives reported after every epoch: the only ones a pruner can act on."""

BEFORE_TRAINING = ("n_params", "flops")
"""Objectives known before training (a candidate's size): a multi-objective pruner ranks on
them together with the epoch objectives."""

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
    "latency": "minimize",
    "model_size": "minimize",
    "train_time": "minimize",
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
    "latency": "latency (s, from the table)",
    "model_size": "model size (MB, from the table)",
    "train_time": "training seconds (from the table)",
}


def label(metric: str) -> str:
    """How a person reads ``metric`` (the name itself where none is known)."""
    return LABELS.get(metric, metric)


SHORT_LABELS = {
    "val_accuracy": "val acc",
    "test_accuracy": "test acc",
    "val_loss": "val loss",
    "test_loss": "test loss",
    "train_loss": "train loss",
    "n_params": "params",
    "flops": "FLOPs",
    "train_seconds": "train s",
    "compile_seconds": "compile s",
    "wall_seconds": "time s",
    "latency": "latency",
    "model_size": "size MB",
    "train_time": "table train s",
}
"""Column headers for narrow tables."""

INTEGER_METRICS = ("n_params", "flops")
"""Metrics that are counts: shown as whole numbers, also where Optuna stores them as floats
(an objective's value)."""


def short_label(metric: str) -> str:
    """A table header for ``metric`` (the name itself where none is known)."""
    return SHORT_LABELS.get(metric, metric)


def shown_value(metric: str, value: float) -> str:
    """``value`` of ``metric`` for a line of text: a count as a whole number (``14990``, not
    ``1.499e+04``), anything else to four significant digits."""
    if metric in INTEGER_METRICS and value == value and abs(value) != float("inf"):
        return str(round(value))
    return f"{value:.4g}"
