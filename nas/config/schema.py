"""A checked experiment as values: frozen dataclasses, one per file section, and the names and
limits its fields accept. Build one with :func:`nas.config.load.load_experiment`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.data import Dataset, DataSpec, load_dataset, parse_spec
from nas.model import Architecture
from nas.space import OPTIMIZER_ATTRS, Space, Suggest

# The names the sampler: and pruner: fields accept; nas.search.algorithms implements exactly
# these (and asserts so).
SAMPLERS = (
    "tpe", "random", "cmaes", "gp", "nsga2", "qmc", "grid", "evolution", "local_search",
)  # fmt: skip
# Options of the samplers nas implements (nas.search.evolution, nas.search.local_search), each
# an integer >= its minimum, checked by nas.config.rules: name -> option -> minimum.
SAMPLER_OPTIONS = {
    "evolution": {"population": 2, "tournament": 1},
    "local_search": {"restarts": 0},
}
DEFAULT_POPULATION = 20
PRUNERS = ("none", "median", "successive_halving", "hyperband", "mo_asha")
# Options of the pruner nas implements (nas.search.mo_asha), each an integer >= its minimum,
# checked by nas.config.rules, and their defaults.
PRUNER_OPTIONS = {"mo_asha": {"eta": 2, "min_epochs": 1}}
MO_ASHA_DEFAULTS = {"eta": 3, "min_epochs": 1}
KEEP_WEIGHTS = ("all", "best_k", "none")
# Seeds go to NumPy's legacy generator inside Optuna, which takes 32-bit seeds.
MAX_SEED = 2**32 - 1

TOP_KEYS = (
    "study", "space", "dataset", "validation_fraction", "training", "objectives",
    "constraints", "sampler", "pruner", "trials", "timeout", "seed", "storage", "execution",
    "artifacts",
)  # fmt: skip
TRAINING_KEYS = (
    "epochs", "eval_batch_size", "optimizer", "learning_rate", "weight_decay", "batch_size",
)  # fmt: skip
CONSTRAINT_KEYS = ("max_params", "max_flops")
EXECUTION_KEYS = (
    "workers", "cpus_per_trial", "gpus_per_trial", "retries", "trial_timeout", "address",
    "lookahead", "retrain_duplicates",
)  # fmt: skip
ARTIFACT_KEYS = ("keep_weights", "k", "dir")


@dataclass(frozen=True)
class TrainingSection:
    """How each candidate is trained.

    ``optimizer``, ``learning_rate``, ``weight_decay`` and ``batch_size`` are fixed values
    used where the space does not search them; ``None`` where the file leaves them out.
    """

    epochs: int
    eval_batch_size: int = 512
    optimizer: str | None = None
    learning_rate: float | None = None
    weight_decay: float | None = None
    batch_size: int | None = None

    def optimizer_defaults(self) -> dict[str, Any]:
        """The optimizer values the file fixes, by :class:`~nas.model.Architecture` field
        name (values left out of the file are left out here)."""
        values = {
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
        }
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class Constraints:
    """Hard limits checked on each candidate before training; ``None`` means no limit."""

    max_params: int | None = None
    max_flops: int | None = None


@dataclass(frozen=True)
class ExecutionSection:
    """Where and how many trials run at a time.

    ``retries``: how often a trial whose worker died is run again. ``trial_timeout``: seconds
    one trial may take (``None``: no limit). ``address``: the Ray cluster the file or a flag
    names (``None``: see :func:`nas.config.ray_address`). CPU and GPU shares may be
    fractional. ``lookahead`` (in-process worker only): how many candidates are proposed
    ahead of the one training, so that their programs compile meanwhile; 0 proposes each
    candidate knowing every earlier result. ``retrain_duplicates``: whether a candidate the
    study already holds as complete (or running) is trained again when the sampler proposes
    it; by default such a proposal is recorded as a skipped duplicate and not trained.
    """

    workers: int = 1
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    retries: int = 1
    trial_timeout: float | None = None
    address: str | None = None
    lookahead: int = 1
    retrain_duplicates: bool = False


@dataclass(frozen=True)
class ArtifactsSection:
    """Which trials keep their trained weights: ``all``, the ``best_k`` (``k`` best by the
    first objective, plus the Pareto front with several objectives) or ``none``. ``dir``
    overrides the folder (default: beside the storage file)."""

    keep_weights: str = "best_k"
    k: int = 5
    dir: str | None = None


@dataclass(frozen=True)
class Experiment:
    """A checked experiment file. Paths inside the file are resolved against its folder.

    ``objectives``: ``(metric, direction)`` pairs in file order. ``sampler``/``pruner``:
    ``(name, options)`` where ``options`` go to the Optuna constructor. At least one of
    ``trials`` (finished trials wanted) and ``timeout`` (seconds) is set; the timeout
    counts from when the workers are ready, and no trial starts after it (started ones finish).
    """

    path: Path
    study: str
    space_path: Path
    space: Space
    dataset: str | Mapping[str, Any]
    validation_fraction: float
    training: TrainingSection
    objectives: tuple[tuple[str, str], ...]
    constraints: Constraints
    sampler: tuple[str, dict[str, Any]]
    pruner: tuple[str, dict[str, Any]]
    trials: int | None
    timeout: float | None
    seed: int
    storage: str
    execution: ExecutionSection
    artifacts: ArtifactsSection

    @property
    def data_spec(self) -> DataSpec:
        """The checked dataset spec (its ``table`` set where candidates are looked up in a
        benchmark table rather than trained)."""
        return parse_spec(self.dataset, source=self.path, base_dir=self.path.parent)

    def load_data(self, seed: int | None = None) -> Dataset:
        """The dataset in the space's input kind, its validation split drawn with ``seed``
        (default: the experiment's seed), checked against the space.

        Raises :class:`~nas.errors.SpecError` where the data cannot take that view or the
        space's layers cannot take the data's shape.
        """
        data = load_dataset(
            self.dataset,
            kind=self.space.input_kind,
            val_fraction=self.validation_fraction,
            seed=self.seed if seed is None else seed,
            source=str(self.path),
            base_dir=self.path.parent,
        )
        self.space.check_input(data.input_shape, source=self.space_path)
        return data

    def sample(self, suggest: Suggest) -> Architecture:
        """One candidate from the space; optimizer values the space leaves out come from
        ``training`` (then from the :class:`~nas.model.Architecture` defaults)."""
        arch = self.space.sample(suggest)
        own = {OPTIMIZER_ATTRS[name] for name, _ in self.space.optimizer}
        fixed = self.training.optimizer_defaults()
        defaults = {name: value for name, value in fixed.items() if name not in own}
        return dataclasses.replace(arch, **defaults) if defaults else arch
