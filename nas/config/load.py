"""The experiment file: everything one search needs, checked when the file is loaded.

:func:`load_experiment` reads the YAML file, applies command-line overrides, checks every
field's type, range and allowed values, and loads the search space it names. The data are not
read then, so loading a file stays cheap; :meth:`Experiment.load_data` reads them in the view
the space needs and checks the space against them. Every problem raises
:class:`~nas.errors.SpecError` naming the file (``command line`` for a bad override), the field
path (``training.epochs``, ``--trials``) and the problem.

Format (paths relative to the file's folder; defaults in brackets)::

    study: NAME                     # required: the Optuna study name
    space: FILE                     # required: the search space file
    dataset: SPEC                   # required: see nas.datasets
    validation_fraction: F          # in (0, 1) [0.2]
    training: {epochs: N, eval_batch_size: N [512],
               optimizer, learning_rate, weight_decay, batch_size}   # fixed values, optional
    objectives: {METRIC: maximize|minimize, ...}   # in order; METRIC in OBJECTIVES
    constraints: {max_params: N, max_flops: N}     # optional hard limits
    sampler: NAME | {name: NAME, OPTION: VALUE}    # SAMPLERS [tpe]
    pruner: NAME | {name: NAME, OPTION: VALUE}     # PRUNERS [none]; one per-epoch objective
    trials: N                       # finished trials wanted; and/or
    timeout: SECONDS
    seed: N                         # [0]
    storage: URL | FILE.log | FILE.jsonl           # [sqlite:///nas.db]
    execution: {workers [1], cpus_per_trial [1], gpus_per_trial [0], retries [1],
                trial_timeout, address, lookahead [1]}
    artifacts: {keep_weights: all|best_k|none [best_k], k [5], dir}
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.architecture import OPTIMIZERS, Architecture
from nas.datasets import Dataset, load_dataset, parse_spec
from nas.errors import SpecError
from nas.samplers import PRUNERS, SAMPLERS, make_pruner, make_sampler
from nas.space import Space, load_space
from nas.space_fields import OPTIMIZER_ATTRS
from nas.suggest import Suggest
from nas.yamlio import load_yaml

OBJECTIVES = ("val_accuracy", "val_loss", "n_params", "flops", "train_seconds")
# Only these are reported after every epoch, so only these give a pruner something to act on.
EPOCH_OBJECTIVES = ("val_accuracy", "val_loss")
DIRECTIONS = ("maximize", "minimize")
KEEP_WEIGHTS = ("all", "best_k", "none")
DEFAULT_STORAGE = "sqlite:///nas.db"
JOURNAL_SUFFIXES = (".log", ".jsonl")
# Samplers whose Optuna implementation imports extra packages only once sampling starts.
SAMPLER_PACKAGES = {"gp": ("torch", "scipy"), "cmaes": ("cmaes",)}
SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)
# Seeds go to NumPy's legacy generator inside Optuna, which takes 32-bit seeds.
MAX_SEED = 2**32 - 1
COMMAND_LINE = "command line"

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
    "lookahead",
)  # fmt: skip
ARTIFACT_KEYS = ("keep_weights", "k", "dir")
OVERRIDES = ("trials", "timeout", "storage", "study", "seed", "workers", "address")


@dataclass(frozen=True)
class TrainingConfig:
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
        """The optimizer values the file fixes, by :class:`~nas.architecture.Architecture`
        field name (values left out of the file are left out here)."""
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
class ExecutionConfig:
    """Where and how many trials run at a time.

    ``retries``: how often a trial whose worker died is run again. ``trial_timeout``: seconds
    one trial may take (``None``: no limit). ``address``: a Ray cluster to join (``None``:
    start a local one). CPU and GPU shares may be fractional. ``lookahead`` (in-process
    worker only): how many candidates are proposed ahead of the one training, so that their
    programs compile meanwhile; 0 proposes each candidate knowing every earlier result.
    """

    workers: int = 1
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    retries: int = 1
    trial_timeout: float | None = None
    address: str | None = None
    lookahead: int = 1


@dataclass(frozen=True)
class ArtifactsConfig:
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
    ``trials`` (finished trials wanted) and ``timeout`` (seconds) is set.
    """

    path: Path
    study: str
    space_path: Path
    space: Space
    dataset: str | Mapping[str, Any]
    validation_fraction: float
    training: TrainingConfig
    objectives: tuple[tuple[str, str], ...]
    constraints: Constraints
    sampler: tuple[str, dict[str, Any]]
    pruner: tuple[str, dict[str, Any]]
    trials: int | None
    timeout: float | None
    seed: int
    storage: str
    execution: ExecutionConfig
    artifacts: ArtifactsConfig

    def load_data(self, seed: int | None = None) -> Dataset:
        """The dataset in the space's input kind, its validation split drawn with ``seed``
        (default: the experiment's seed), checked against the space.

        Raises :class:`SpecError` where the data cannot take that view or the space's layers
        cannot take the data's shape.
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
        ``training`` (then from the :class:`~nas.architecture.Architecture` defaults)."""
        arch = self.space.sample(suggest)
        own = {OPTIMIZER_ATTRS[name] for name, _ in self.space.optimizer}
        fixed = self.training.optimizer_defaults()
        defaults = {name: value for name, value in fixed.items() if name not in own}
        return dataclasses.replace(arch, **defaults) if defaults else arch


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Experiment:
    """Load and check the experiment file at ``path``.

    ``overrides`` (from command-line flags) replace file values; keys are ``trials``,
    ``timeout``, ``storage``, ``study``, ``seed``, ``workers`` and ``address``, and ``None``
    values are ignored. Raises :class:`SpecError` on any problem in the file, in an override
    (source ``command line``, field ``--name``) or in the space file; ``ValueError`` on an
    unknown override key (a caller's bug).
    """
    path = Path(path)
    check = _Check(path)
    data = load_yaml(path)
    if not isinstance(data, Mapping):
        raise SpecError(path, "", f"must be a mapping of fields, got {_shown(data)}")
    data = dict(check.keys(data, "", TOP_KEYS))
    execution = dict(check.keys(_section(data, "execution"), "execution", EXECUTION_KEYS))
    for key, value in _overrides(overrides).items():
        if key in ("workers", "address"):
            execution[key] = value
        else:
            data[key] = value

    study = check.text(check.required(data, "study", "the Optuna study name"), "study")
    space_path = _space_path(check.required(data, "space", "the search space file"), check)
    dataset = check.required(data, "dataset", "a built-in name or {path: <file>}")
    parse_spec(dataset, source=path, base_dir=path.parent)
    validation_fraction = check.number(
        data.get("validation_fraction", 0.2), "validation_fraction", 0, high=1, open_=True
    )
    training = _training(check.required(data, "training", "a mapping with epochs"), check)
    objectives = _objectives(check.required(data, "objectives", "metric: direction"), check)
    sampler = _algorithm(data.get("sampler", "tpe"), check, "sampler", SAMPLERS)
    pruner = _algorithm(data.get("pruner", "none"), check, "pruner", PRUNERS)
    trials = check.integer(data.get("trials"), "trials", 1, optional=True)
    timeout = check.number(data.get("timeout"), "timeout", 0, open_=True, optional=True)
    if trials is None and timeout is None:
        raise SpecError(path, "trials", "give trials, timeout or both to say when to stop")
    seed = check.integer(data.get("seed", 0), "seed", 0, MAX_SEED)
    space = load_space(space_path)
    _check_search(sampler, pruner, objectives, space, training, seed, path)
    return Experiment(
        path=path,
        study=study,
        space_path=space_path,
        space=space,
        dataset=dataset,
        validation_fraction=validation_fraction,
        training=training,
        objectives=objectives,
        constraints=_constraints(_section(data, "constraints"), check),
        sampler=sampler,
        pruner=pruner,
        trials=trials,
        timeout=timeout,
        seed=seed,
        storage=check.storage(data.get("storage", DEFAULT_STORAGE), "storage"),
        execution=_execution(execution, check, _Check("environment")),
        artifacts=_artifacts(_section(data, "artifacts"), check),
    )


# --- sections ----------------------------------------------------------------------------


def _overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Override values checked as command-line flags; ``None`` values dropped."""
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    unknown = sorted(set(given) - set(OVERRIDES))
    if unknown:
        raise ValueError(f"unknown override(s) {unknown}; expected some of {OVERRIDES}")
    check = _Check(COMMAND_LINE)
    checks = {
        "trials": lambda v, f: check.integer(v, f, 1),
        "timeout": lambda v, f: check.number(v, f, 0, open_=True),
        "storage": check.storage,
        "study": check.text,
        "seed": lambda v, f: check.integer(v, f, 0, MAX_SEED),
        "workers": lambda v, f: check.integer(v, f, 1),
        "address": check.address,
    }
    return {key: checks[key](value, f"--{key}") for key, value in given.items()}


def _space_path(value: Any, check: _Check) -> Path:
    text = check.text(value, "space")
    space_path = Path(os.path.normpath(Path(check.source).parent / Path(text).expanduser()))
    if not space_path.is_file():
        raise check.fail("space", f"file not found: {space_path}")
    return space_path


def _training(value: Any, check: _Check) -> TrainingConfig:
    data = check.keys(value, "training", TRAINING_KEYS)
    epochs = check.required(data, "epochs", "an integer >= 1", "training.")
    return TrainingConfig(
        epochs=check.integer(epochs, "training.epochs", 1),
        eval_batch_size=check.integer(
            data.get("eval_batch_size", 512), "training.eval_batch_size", 1
        ),
        optimizer=check.choice(
            data.get("optimizer"), "training.optimizer", OPTIMIZERS, optional=True
        ),
        learning_rate=check.number(
            data.get("learning_rate"), "training.learning_rate", 0, open_=True, optional=True
        ),
        weight_decay=check.number(
            data.get("weight_decay"), "training.weight_decay", 0, optional=True
        ),
        batch_size=check.integer(data.get("batch_size"), "training.batch_size", 1, optional=True),
    )


def _objectives(value: Any, check: _Check) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not value:
        raise check.fail(
            "objectives",
            f"must be a non-empty mapping of metric to maximize|minimize, got {_shown(value)}",
        )
    pairs = []
    for metric, direction in value.items():
        field = f"objectives.{metric}"
        if metric not in OBJECTIVES:
            raise check.fail(field, f"unknown metric; expected one of {list(OBJECTIVES)}")
        pairs.append((metric, check.choice(direction, field, DIRECTIONS)))
    return tuple(pairs)


def _algorithm(
    value: Any, check: _Check, field: str, names: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """``name`` or ``{name: ..., **options}`` -> ``(name, options)``."""
    if isinstance(value, str):
        return check.choice(value, field, names), {}
    if not isinstance(value, Mapping):
        raise check.fail(
            field, f"must be a name or a mapping with 'name' and options, got {_shown(value)}"
        )
    options = dict(value)
    check.required(options, "name", f"one of {', '.join(names)}", f"{field}.")
    name = check.choice(options.pop("name"), f"{field}.name", names)
    for key in options:
        if not isinstance(key, str):
            raise check.fail(field, f"option names must be text, got {_shown(key)}")
    if "seed" in options:
        raise check.fail(f"{field}.seed", "set the top-level seed instead")
    return name, options


def _check_search(
    sampler: tuple[str, dict[str, Any]],
    pruner: tuple[str, dict[str, Any]],
    objectives: tuple[tuple[str, str], ...],
    space: Space,
    training: TrainingConfig,
    seed: int,
    path: Path,
) -> None:
    """Rules tying sampler, pruner, objectives and space together, and the options each
    Optuna constructor accepts."""
    (sampler_name, sampler_options), (pruner_name, pruner_options) = sampler, pruner
    metrics = [metric for metric, _ in objectives]
    if sampler_name in SINGLE_OBJECTIVE_SAMPLERS and len(metrics) > 1:
        raise SpecError(
            path, "sampler", f"{sampler_name} supports one objective, got {len(metrics)} {metrics}"
        )
    if sampler_name == "grid" and space.cardinality() is None:
        raise SpecError(
            path,
            "sampler",
            f"grid needs a finite space; {space.name!r} is continuous "
            f"({', '.join(space.continuous_params())}); use another sampler, or give those "
            "parameters choices or a step",
        )
    missing = [
        package
        for package in SAMPLER_PACKAGES.get(sampler_name, ())
        if importlib.util.find_spec(package) is None
    ]
    if missing:
        raise SpecError(
            path, "sampler", f"{sampler_name} needs the package(s) {missing}, not installed"
        )
    if pruner_name != "none":
        if len(metrics) > 1:
            raise SpecError(
                path,
                "pruner",
                f"Optuna pruners support one objective, got {len(metrics)} {metrics}; "
                "use pruner: none",
            )
        if metrics[0] not in EPOCH_OBJECTIVES:
            raise SpecError(
                path,
                "pruner",
                f"{metrics[0]} is only known after training, so there is nothing to prune "
                f"on; prune on one of {list(EPOCH_OBJECTIVES)} or use pruner: none",
            )
    elif pruner_options:
        raise SpecError(path, "pruner", "none takes no options")
    # Building the Optuna objects is cheap and catches unknown or out-of-range options now
    # rather than when the search starts.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for field, build in (
            ("sampler", lambda: make_sampler(sampler_name, sampler_options, seed)),
            ("pruner", lambda: make_pruner(pruner_name, pruner_options, training.epochs)),
        ):
            try:
                build()
            except (TypeError, ValueError) as err:
                raise SpecError(path, field, f"bad options: {err}") from None


def _constraints(value: Any, check: _Check) -> Constraints:
    data = check.keys(value, "constraints", CONSTRAINT_KEYS)
    return Constraints(
        **{
            key: check.integer(data.get(key), f"constraints.{key}", 1, optional=True)
            for key in CONSTRAINT_KEYS
        }
    )


def _execution(data: Mapping[str, Any], check: _Check, environment: _Check) -> ExecutionConfig:
    if data.get("address") is None:
        # Where neither the file nor a flag names a cluster, RAY_ADDRESS does (at run time).
        environment.address(os.environ.get("RAY_ADDRESS") or None, "RAY_ADDRESS", optional=True)
    return ExecutionConfig(
        workers=check.integer(data.get("workers", 1), "execution.workers", 1),
        cpus_per_trial=check.number(
            data.get("cpus_per_trial", 1), "execution.cpus_per_trial", 0, open_=True
        ),
        gpus_per_trial=check.number(data.get("gpus_per_trial", 0), "execution.gpus_per_trial", 0),
        retries=check.integer(data.get("retries", 1), "execution.retries", 0),
        trial_timeout=check.number(
            data.get("trial_timeout"), "execution.trial_timeout", 0, open_=True, optional=True
        ),
        address=check.address(data.get("address"), "execution.address", optional=True),
        lookahead=check.integer(data.get("lookahead", 1), "execution.lookahead", 0, 8),
    )


def _artifacts(value: Any, check: _Check) -> ArtifactsConfig:
    data = check.keys(value, "artifacts", ARTIFACT_KEYS)
    return ArtifactsConfig(
        keep_weights=check.choice(
            data.get("keep_weights", "best_k"), "artifacts.keep_weights", KEEP_WEIGHTS
        ),
        k=check.integer(data.get("k", 5), "artifacts.k", 1),
        dir=check.text(data.get("dir"), "artifacts.dir", optional=True),
    )


def _section(data: Mapping[str, Any], key: str) -> Any:
    """An optional section; left out or left empty (``key:`` alone) means all defaults."""
    value = data.get(key)
    return {} if value is None else value


# --- field checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """Field checks that raise :class:`SpecError` against one source.

    With ``optional=True`` a ``None`` value passes through as ``None``.
    """

    source: str | Path

    def fail(self, field: str, problem: str) -> SpecError:
        return SpecError(self.source, field, problem)

    def keys(self, value: Any, field: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(field, f"must be a mapping, got {_shown(value)}")
        for key in value:
            if key not in allowed:
                where = f"{field}.{key}" if field else str(key)
                raise self.fail(where, f"unknown key; allowed: {', '.join(allowed)}")
        return value

    def required(self, data: Mapping[str, Any], key: str, what: str, prefix: str = "") -> Any:
        if data.get(key) is None:
            raise self.fail(f"{prefix}{key}", f"required: {what}")
        return data[key]

    def integer(
        self, value: Any, field: str, low: int, high: int | None = None, *, optional: bool = False
    ) -> Any:
        if value is None and optional:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise self.fail(field, f"must be an integer {bounds}, got {_shown(value)}")
        return value

    def number(
        self,
        value: Any,
        field: str,
        low: float,
        *,
        high: float | None = None,
        open_: bool = False,
        optional: bool = False,
    ) -> Any:
        """A finite number above ``low`` (strictly if ``open_``) and below ``high``."""
        if value is None and optional:
            return None
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (value > low if open_ else value >= low)
            and (high is None or value < high)
        )
        if not ok:
            bounds = f"{'>' if open_ else '>='} {low}"
            if high is not None:
                bounds = f"in {'(' if open_ else '['}{low}, {high})"
            raise self.fail(field, f"must be a number {bounds}, got {_shown(value)}")
        return float(value)

    def choice(
        self, value: Any, field: str, choices: tuple[str, ...], *, optional: bool = False
    ) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or value not in choices:
            raise self.fail(
                field, f"unknown value {_shown(value)}; expected one of {', '.join(choices)}"
            )
        return value

    def text(self, value: Any, field: str, *, optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"must be non-empty text, got {_shown(value)}")
        return value

    def address(self, value: Any, field: str, *, optional: bool = False) -> Any:
        """A Ray cluster address: ``host:port`` or ``auto``. The Ray Client form
        (``ray://``) needs a package the toolkit does not install, and is refused here rather
        than failing inside Ray."""
        text = self.text(value, field, optional=optional)
        if text is not None and text.strip().lower().startswith("ray://"):
            raise self.fail(
                field,
                f"{text!r} is a Ray Client address, which is not supported; run the search on "
                "a machine of the cluster and give the head's host:port (e.g. HEAD_IP:6379)",
            )
        return text

    def storage(self, value: Any, field: str) -> str:
        url = self.text(value, field)
        if "://" not in url and not url.endswith(JOURNAL_SUFFIXES):
            raise self.fail(
                field,
                f"{url!r} is neither a database URL (such as {DEFAULT_STORAGE}) nor a journal "
                f"file ending in {' or '.join(JOURNAL_SUFFIXES)}",
            )
        return url


def _shown(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
