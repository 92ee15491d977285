"""Compile-aware training of one architecture on one dataset: knows nothing of Optuna, Ray
or experiment files. A :class:`Trainer` keeps compiled programs per architecture signature;
:class:`ParamLayout` maps its flat parameter vector to Flax's parameter tree."""

from nas.training.layout import ParamLayout
from nas.training.trainer import EpochCallback, TrainConfig, Trainer, TrainingData, TrainResult
from nas.training.xla_cache import cache_dir, enable_compilation_cache
from nas.training.xla_options import FAST_COMPILE, FAST_EVAL, compiler_options

__all__ = [
    "FAST_COMPILE",
    "FAST_EVAL",
    "EpochCallback",
    "ParamLayout",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingData",
    "cache_dir",
    "compiler_options",
    "enable_compilation_cache",
]
