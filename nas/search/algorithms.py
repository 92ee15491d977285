"""Optuna at the search edge: samplers, pruners and the adapter a space samples through.

The names are :data:`nas.config.SAMPLERS` and :data:`nas.config.PRUNERS`, which an experiment
file is checked against; this module implements exactly those.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

from nas.config import DEFAULT_POPULATION, PRUNERS, SAMPLERS, Experiment
from nas.errors import SpecError
from nas.search.evolution import EvolutionSampler
from nas.search.local_search import LocalSearchSampler
from nas.search.mo_asha import MOASHAPruner


class OptunaSuggest:
    """:class:`nas.space.suggest.Suggest` backed by an Optuna trial (``trial.suggest_*``)."""

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


class TrialSeeded(BaseSampler):
    """A sampler whose random draws for a trial are seeded from the experiment's seed and the
    trial's number.

    A sampler seeded once per run repeats itself: a resumed run draws the first run's
    candidates again, and two drivers started together draw the same ones. Trial numbers are
    handed out by the store, one per trial across every driver, so seeding each trial from
    ``(seed, number)`` gives every run and every driver fresh draws, while a run stays
    reproducible from its seed and the study's history (what a model-based sampler learns
    from). Every random state of the wrapped sampler (nested samplers' included) is reseeded
    just before the trial samples; QMC's sequence seed is a plain integer and is kept, as its
    sequence must stay one sequence.
    """

    def __init__(self, inner: BaseSampler, seed: int) -> None:
        self.inner = inner
        self.seed = seed

    @property
    def exhausted(self) -> bool:
        """The grid sampler's flag (see :class:`ExhaustiveSampler`); False for the others."""
        return bool(getattr(self.inner, "exhausted", False))

    @property
    def stop_reason(self) -> str | None:
        """Why the wrapped sampler is done, where it says (local search); else ``None``."""
        return getattr(self.inner, "stop_reason", None)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        for k, state in enumerate(_random_states(self.inner)):
            state.seed(trial_seed(self.seed, trial.number, k))
        self.inner.before_trial(study, trial)

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self.inner.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self.inner.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()


def trial_seed(seed: int, number: int, k: int = 0) -> int:
    """The 32-bit seed of random state ``k`` for trial ``number`` of a search seeded ``seed``."""
    return int(np.random.SeedSequence([seed, number, k]).generate_state(1)[0])


def _random_states(sampler: BaseSampler) -> Iterator[np.random.RandomState]:
    """The NumPy random states a sampler draws from, its nested samplers' included, in a
    fixed order (attribute names sorted). Optuna keeps most behind a lazy holder with an
    ``rng`` property; both it and a bare ``RandomState`` are found."""
    for _, value in sorted(vars(sampler).items()):
        if isinstance(value, np.random.RandomState):
            yield value
        elif isinstance(value, BaseSampler):
            yield from _random_states(value)
        elif isinstance(getattr(type(value), "rng", None), property):
            state = value.rng
            if isinstance(state, np.random.RandomState):
                yield state


def _tpe(seed: int, options: dict[str, Any]) -> optuna.samplers.BaseSampler:
    # constant_liar keeps parallel workers from proposing the same candidate.
    options.setdefault("constant_liar", True)
    return optuna.samplers.TPESampler(seed=seed, **options)


_SAMPLER_FACTORIES: dict[str, Callable[[int, dict[str, Any]], optuna.samplers.BaseSampler]] = {
    "tpe": _tpe,
    "random": lambda seed, options: optuna.samplers.RandomSampler(seed=seed, **options),
    "cmaes": lambda seed, options: optuna.samplers.CmaEsSampler(
        seed=seed, warn_independent_sampling=False, **options
    ),
    "gp": lambda seed, options: optuna.samplers.GPSampler(seed=seed, **options),
    "nsga2": lambda seed, options: optuna.samplers.NSGAIISampler(seed=seed, **options),
    "qmc": lambda seed, options: optuna.samplers.QMCSampler(
        seed=seed, warn_independent_sampling=False, **options
    ),
    "grid": lambda seed, options: ExhaustiveSampler(seed=seed, **options),
    "evolution": lambda seed, options: EvolutionSampler(
        population=options.pop("population", DEFAULT_POPULATION), seed=seed, **options
    ),
    "local_search": lambda seed, options: LocalSearchSampler(seed=seed, **options),
}
assert set(_SAMPLER_FACTORIES) == set(SAMPLERS)


Objectives = Sequence[tuple[str, str]]


def _median(options: dict[str, Any], epochs: int, _: Objectives) -> optuna.pruners.BasePruner:
    options.setdefault("n_startup_trials", 5)
    options.setdefault("n_warmup_steps", max(1, epochs // 4))
    return optuna.pruners.MedianPruner(**options)


def _hyperband(options: dict[str, Any], epochs: int, _: Objectives) -> optuna.pruners.BasePruner:
    options.setdefault("min_resource", 1)
    options.setdefault("max_resource", epochs)
    return optuna.pruners.HyperbandPruner(**options)


_PRUNER_FACTORIES: dict[
    str, Callable[[dict[str, Any], int, Objectives], optuna.pruners.BasePruner]
] = {
    "none": lambda options, epochs, objectives: optuna.pruners.NopPruner(),
    "median": _median,
    "successive_halving": lambda options, epochs, objectives: (
        optuna.pruners.SuccessiveHalvingPruner(**options)
    ),
    "hyperband": _hyperband,
    "mo_asha": lambda options, epochs, objectives: MOASHAPruner(objectives, epochs, **options),
}
assert set(_PRUNER_FACTORIES) == set(PRUNERS)


def make_sampler(name: str, options: dict[str, Any], seed: int) -> TrialSeeded:
    """The named sampler, its draws seeded per trial from ``seed`` and the trial's number
    (:class:`TrialSeeded`); ``options`` go to its constructor as keyword arguments.

    ``grid`` enumerates a finite space exhaustively (conditional parameters included).
    Raises ``ValueError`` on an unknown name and ``ImportError`` naming the missing package.
    """
    if name not in _SAMPLER_FACTORIES:
        raise ValueError(f"unknown sampler {name!r}; expected one of {SAMPLERS}")
    return TrialSeeded(_SAMPLER_FACTORIES[name](seed, dict(options)), seed)


def make_pruner(
    name: str, options: dict[str, Any], epochs: int, objectives: Objectives = ()
) -> optuna.pruners.BasePruner:
    """The named pruner; steps are epochs (1-based). ``options`` override the defaults.
    ``objectives`` (``(metric, direction)`` pairs) are what ``mo_asha`` ranks on."""
    if name not in _PRUNER_FACTORIES:
        raise ValueError(f"unknown pruner {name!r}; expected one of {PRUNERS}")
    return _PRUNER_FACTORIES[name](dict(options), epochs, objectives)


# Samplers that draw their first trials at random: the option that sets how many, its
# default, and whether those first trials are a population the later ones are bred from.
RANDOM_START = {
    "nsga2": ("population_size", 50, True),
    "tpe": ("n_startup_trials", 10, False),
    "gp": ("n_startup_trials", 10, False),
}


def describe_algorithms(experiment: Experiment) -> str:
    """One line naming the sampler and pruner with their options, and the budget, e.g.
    ``sampler nsga2 (population_size 50, default) · pruner none · 20 trials``."""
    (sampler, options), (pruner, pruner_options) = experiment.sampler, experiment.pruner
    shown = [f"{key} {value}" for key, value in options.items()]
    if sampler in RANDOM_START and RANDOM_START[sampler][0] not in options:
        key, default, _ = RANDOM_START[sampler]
        shown.insert(0, f"{key} {default}, default")
    parts = [f"sampler {sampler}" + (f" ({', '.join(shown)})" if shown else "")]
    extra = ", ".join(f"{key} {value}" for key, value in pruner_options.items())
    parts.append(f"pruner {pruner}" + (f" ({extra})" if extra else ""))
    budget = []
    if experiment.trials is not None:
        budget.append(f"{experiment.trials} trial{'' if experiment.trials == 1 else 's'}")
    if experiment.timeout is not None:
        budget.append(f"{experiment.timeout:g} s")
    parts.append(" or ".join(budget) or "no budget")
    spec = experiment.data_spec
    if spec.table is not None:
        parts.append(f"looked up in {spec.table} ({spec.lookup}), not trained")
    else:
        epochs = experiment.training.epochs
        parts.append(f"{epochs} epoch{'' if epochs == 1 else 's'}")
    return " · ".join(parts)


def sampler_warnings(experiment: Experiment) -> list[str]:
    """What the sampler cannot do within the trial budget, in words for the search's header:
    a sampler whose first trials are random (NSGA-II's first population, TPE's and GP's
    startup trials) with a budget of no more of them is random search, and NSGA-II with
    less than two populations breeds less than one generation. Empty where the budget is
    ample, or is a time budget alone (the trial count is not known)."""
    sampler, options = experiment.sampler
    target = experiment.trials
    if sampler not in RANDOM_START or target is None:
        return []
    key, default, population = RANDOM_START[sampler]
    size = int(options.get(key, default))
    given = f"{key} {size}" + ("" if key in options else " (the default)")
    if population:
        advice = (
            f"for several generations set sampler: {{name: {sampler}, {key}: "
            f"{max(2, target // 5)}}}, or ask for at least {2 * size} trials"
        )
        if target <= size:
            return [
                f"{sampler} with {given} and {target} trials: every trial is drawn at random "
                f"(its first generation), so this is random search; {advice}"
            ]
        if target < 2 * size:
            return [
                f"{sampler} with {given} and {target} trials: the first {size} trials are "
                f"drawn at random and only {target - size} are bred from them, less than one "
                f"generation of evolution; {advice}"
            ]
        return []
    if target <= size:
        return [
            f"{sampler} draws its first {size} trials at random ({given}) and this search "
            f"has {target}, so it is random search; set sampler: {{name: {sampler}, {key}: "
            f"{max(1, target // 3)}}}, or ask for more than {size} trials"
        ]
    return []


def check_algorithms(experiment: Experiment) -> None:
    """Build the experiment's sampler and pruner once and throw them away: it is cheap, and
    options Optuna refuses then fail at load time rather than when the search starts.

    Raises ``SpecError(experiment.path, "sampler" or "pruner", "bad options: ...")`` where a
    constructor raises ``TypeError`` or ``ValueError``; ``ImportError`` as :func:`make_sampler`.
    """
    (sampler, sampler_options), (pruner, pruner_options) = experiment.sampler, experiment.pruner
    # Some constructors warn (experimental samplers); the search warns when it builds its own.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for field, build in (
            ("sampler", lambda: make_sampler(sampler, sampler_options, experiment.seed)),
            (
                "pruner",
                lambda: make_pruner(
                    pruner, pruner_options, experiment.training.epochs, experiment.objectives
                ),
            ),
        ):
            try:
                build()
            except (TypeError, ValueError) as err:
                raise SpecError(experiment.path, field, f"bad options: {err}") from None
