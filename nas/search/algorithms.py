"""Optuna at the search edge: samplers, pruners and the adapter a space samples through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna

SAMPLERS = ("tpe", "random", "cmaes", "gp", "nsga2", "qmc", "grid")
PRUNERS = ("none", "median", "successive_halving", "hyperband")


class OptunaSuggest:
    """:class:`nas.suggest.Suggest` backed by an Optuna trial (``trial.suggest_*``)."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self.trial.suggest_categorical(name, list(choices))

    def int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return self.trial.suggest_int(name, low, high, step=step, log=log)

    def float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        return self.trial.suggest_float(name, low, high, step=step, log=log)


class ExhaustiveSampler(optuna.samplers.BruteForceSampler):
    """Optuna's brute-force sampler for ask/tell: once every candidate of the finite space has
    been tried, ``exhausted`` turns True (Optuna's own ``study.stop()`` works only inside
    ``study.optimize``), and the driver starts no new trial."""

    exhausted = False

    def after_trial(self, study, trial, state, values) -> None:
        try:
            super().after_trial(study, trial, state, values)
        except RuntimeError as err:
            if "Study.stop" not in str(err):
                raise
            self.exhausted = True


def make_sampler(name: str, options: dict[str, Any], seed: int) -> optuna.samplers.BaseSampler:
    """The named sampler, seeded; ``options`` go to its constructor as keyword arguments.

    ``grid`` enumerates a finite space exhaustively (conditional parameters included).
    Raises ``ValueError`` on an unknown name and ``ImportError`` naming the missing package.
    """
    options = dict(options)
    if name == "tpe":
        # constant_liar keeps parallel workers from proposing the same candidate.
        options.setdefault("constant_liar", True)
        return optuna.samplers.TPESampler(seed=seed, **options)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed, **options)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False, **options)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, **options)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, **options)
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False, **options)
    if name == "grid":
        return ExhaustiveSampler(seed=seed, **options)
    raise ValueError(f"unknown sampler {name!r}; expected one of {SAMPLERS}")


def make_pruner(name: str, options: dict[str, Any], epochs: int) -> optuna.pruners.BasePruner:
    """The named pruner; steps are epochs (1-based). ``options`` override the defaults."""
    options = dict(options)
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        options.setdefault("n_startup_trials", 5)
        options.setdefault("n_warmup_steps", max(1, epochs // 4))
        return optuna.pruners.MedianPruner(**options)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(**options)
    if name == "hyperband":
        options.setdefault("min_resource", 1)
        options.setdefault("max_resource", epochs)
        return optuna.pruners.HyperbandPruner(**options)
    raise ValueError(f"unknown pruner {name!r}; expected one of {PRUNERS}")
