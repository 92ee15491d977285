"""Candidates as values and as Flax modules.

An :class:`Architecture` is one candidate (frozen, canonical JSON, a shape *signature*);
:func:`build_model` makes its Flax module; :func:`model_stats` counts its parameters and
FLOPs before anything is compiled. Nothing here knows of spaces, Optuna, Ray or experiments.
"""

from nas.model.architecture import (
    ACTIVATIONS,
    CELLS,
    LAYER_TYPES,
    NORMS,
    OPTIMIZERS,
    PADDINGS,
    POOL_KINDS,
    SKIPS,
    Architecture,
    ArchitectureError,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Layer,
    Norm,
    Pool,
    Recurrent,
)
from nas.model.builder import CandidateNet, build_model, dropout, layer_seed
from nas.model.describe import describe
from nas.model.init import init_variables, variable_shapes
from nas.model.ops import ACTIVATION_OPS, CELL_OPS, NORM_OPS, POOL_OPS, Op
from nas.model.shapes import KINDS, Shape, ShapeError, input_kind, output_shape, trace_shapes
from nas.model.size import ModelStats, candidate_variable_shapes, forward_flops, model_stats
from nas.model.wiring import BLOCKS, NETWORK_INPUT, LayerWiring, SkipPlan, skip_plan

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_OPS",
    "BLOCKS",
    "CELLS",
    "CELL_OPS",
    "KINDS",
    "LAYER_TYPES",
    "NETWORK_INPUT",
    "NORMS",
    "NORM_OPS",
    "OPTIMIZERS",
    "PADDINGS",
    "POOL_KINDS",
    "POOL_OPS",
    "SKIPS",
    "Architecture",
    "ArchitectureError",
    "CandidateNet",
    "Conv",
    "Dense",
    "Dropout",
    "GlobalPool",
    "Layer",
    "LayerWiring",
    "ModelStats",
    "Norm",
    "Op",
    "Pool",
    "Recurrent",
    "Shape",
    "ShapeError",
    "SkipPlan",
    "build_model",
    "candidate_variable_shapes",
    "describe",
    "dropout",
    "forward_flops",
    "init_variables",
    "input_kind",
    "layer_seed",
    "model_stats",
    "output_shape",
    "skip_plan",
    "trace_shapes",
    "variable_shapes",
]
