"""Experiment files: one YAML file naming a space, a dataset, objectives, the sampler and
pruner, when to stop, where results go and how trials run; loaded into a checked, frozen
:class:`Experiment` by :func:`load_experiment` (the file format is in :mod:`nas.config.load`).

Nothing here imports Optuna or Ray: the sampler and pruner are checked by name and by the
rules that tie them to the objectives and space; the search's own loader,
:func:`nas.search.experiment.load_experiment`, adds the check that Optuna accepts their
options. :func:`ray_address` says which Ray cluster a search joins.
"""

from nas.config.json_schema import experiment_schema
from nas.config.kinds import FileKind, file_kind
from nas.config.load import load_experiment
from nas.config.overrides import OVERRIDES, ray_address
from nas.config.schema import (
    DEFAULT_POPULATION,
    KEEP_WEIGHTS,
    MAX_SEED,
    MO_ASHA_DEFAULTS,
    PRUNERS,
    SAMPLERS,
    ArtifactsSection,
    Constraints,
    ExecutionSection,
    Experiment,
    TrainingSection,
)

__all__ = [
    "DEFAULT_POPULATION",
    "KEEP_WEIGHTS",
    "MAX_SEED",
    "MO_ASHA_DEFAULTS",
    "OVERRIDES",
    "PRUNERS",
    "SAMPLERS",
    "ArtifactsSection",
    "Constraints",
    "ExecutionSection",
    "Experiment",
    "FileKind",
    "TrainingSection",
    "experiment_schema",
    "file_kind",
    "load_experiment",
    "ray_address",
]
