"""Candidates as values and as Flax modules.

An :class:`Architecture` is one candidate (frozen, canonical JSON, a shape *signature*);
:func:`build_model` makes its Flax module; :func:`model_stats` counts its parameters and
FLOPs before anything is compiled. Nothing here knows of spaces, Optuna, Ray or experiments.
"""

from nas.model.architecture import (
    ACTIVATIONS,
    EDGE_OPS,
    LAYER_TYPES,
    MAX_CELL_NODES,
    NORMS,
    OPTIMIZERS,
    PADDINGS,
    POOL_KINDS,
    RNN_CELLS,
    SKIPS,
    Activation,
    Architecture,
    ArchitectureError,
    Cell,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Layer,
    Norm,
    Pool,
    Recurrent,
    cell_edges,
)
from nas.model.builder import CandidateNet, build_model, dropout, layer_seed
from nas.model.cellplan import EdgePlan, cell_plan
from nas.model.describe import arch_label, describe, layer_label, short_label
from nas.model.init import init_variables, variable_shapes
from nas.model.ops import (
    ACTIVATION_OPS,
    CELL_EDGE_OPS,
    NORM_OPS,
    POOL_OPS,
    RNN_CELL_OPS,
    EdgeOp,
    Op,
)
from nas.model.shapes import KINDS, Shape, ShapeError, input_kind, output_shape, trace_shapes
from nas.model.size import ModelStats, candidate_variable_shapes, forward_flops, model_stats
from nas.model.wiring import BLOCKS, NETWORK_INPUT, LayerWiring, SkipPlan, skip_plan

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_OPS",
    "BLOCKS",
    "CELL_EDGE_OPS",
    "EDGE_OPS",
    "KINDS",
    "LAYER_TYPES",
    "MAX_CELL_NODES",
    "NETWORK_INPUT",
    "NORMS",
    "NORM_OPS",
    "OPTIMIZERS",
    "PADDINGS",
    "POOL_KINDS",
    "POOL_OPS",
    "RNN_CELLS",
    "RNN_CELL_OPS",
    "SKIPS",
    "Activation",
    "Architecture",
    "ArchitectureError",
    "CandidateNet",
    "Cell",
    "Conv",
    "Dense",
    "Dropout",
    "EdgeOp",
    "EdgePlan",
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
    "arch_label",
    "build_model",
    "candidate_variable_shapes",
    "cell_edges",
    "cell_plan",
    "describe",
    "dropout",
    "forward_flops",
    "init_variables",
    "input_kind",
    "layer_label",
    "layer_seed",
    "model_stats",
    "output_shape",
    "short_label",
    "skip_plan",
    "trace_shapes",
    "variable_shapes",
]
