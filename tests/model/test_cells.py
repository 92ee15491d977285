"""Cell layers built: each op against a hand-written reference, none edges, parameter names,
sizes against NAS-Bench-201's published ones, FLOPs by hand and by XLA, and labels."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nas.model import (
    Activation,
    Architecture,
    Cell,
    GlobalPool,
    Norm,
    ShapeError,
    arch_label,
    build_model,
    model_stats,
    nb201_string,
    short_label,
)
from nas.space import FixedSuggest, load_space
from tests.model.test_builder import abstract_variables, count, inputs, random_variables

SPACES = Path(__file__).resolve().parents[2] / "search_spaces"
NUM_CLASSES = 7


def bn(x, variables, name):
    stats, params = variables["batch_stats"][name], variables["params"][name]
    return (x - stats["mean"]) / jnp.sqrt(stats["var"] + 1e-5) * params["scale"] + params["bias"]


def conv(x, kernel, stride=1):
    pad = kernel.shape[0] // 2
    return jax.lax.conv_general_dilated(
        x, kernel, (stride, stride), [(pad, pad)] * 2, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def avg3(x, stride=1):
    sums = jax.lax.reduce_window(
        x, 0.0, jax.lax.add, (1, 3, 3, 1), (1, stride, stride, 1), [(0, 0), (1, 1), (1, 1), (0, 0)]
    )
    ones = jnp.ones((*x.shape[:3], 1), x.dtype)
    counts = jax.lax.reduce_window(
        ones,
        0.0,
        jax.lax.add,
        (1, 3, 3, 1),
        (1, stride, stride, 1),
        [(0, 0), (1, 1), (1, 1), (0, 0)],
    )
    return sums / counts


def relu_conv_bn(x, v, name, stride=1):
    return bn(
        conv(jax.nn.relu(x), v["params"][f"{name}_conv"]["kernel"], stride), v, f"{name}_norm"
    )


def through_head(reference: jax.Array, variables: dict) -> jax.Array:
    """The logits the network gives where its cell outputs ``reference``: the head reads
    the flattened cell output."""
    head = variables["params"]["head"]
    return reference.reshape(reference.shape[0], -1) @ head["kernel"] + head["bias"]


# (cell, input shape, reference of the output from (x, variables), parameter modules)
CASES = {
    "skip": (Cell(3, ("skip",), nodes=2), (5, 5, 3), lambda x, v: x, set()),
    "none": (Cell(3, ("none",), nodes=2), (5, 5, 3), lambda x, v: jnp.zeros_like(x), set()),
    "conv1x1": (
        Cell(3, ("conv1x1",), nodes=2),
        (5, 5, 3),
        lambda x, v: relu_conv_bn(x, v, "layer0_e0"),
        {"layer0_e0_conv", "layer0_e0_norm"},
    ),
    "conv3x3": (
        Cell(4, ("conv3x3",), nodes=2),
        (5, 5, 3),
        lambda x, v: relu_conv_bn(x, v, "layer0_e0"),
        {"layer0_e0_conv", "layer0_e0_norm"},
    ),
    "avgpool3x3": (Cell(3, ("avgpool3x3",), nodes=2), (5, 5, 3), lambda x, v: avg3(x), set()),
    "avgpool3x3-new-channels": (
        Cell(4, ("avgpool3x3",), nodes=2),
        (5, 5, 3),
        lambda x, v: avg3(relu_conv_bn(x, v, "layer0_e0")),
        {"layer0_e0_conv", "layer0_e0_norm"},
    ),
    "skip-new-channels": (
        Cell(4, ("skip",), nodes=2),
        (5, 5, 3),
        lambda x, v: x @ v["params"]["layer0_e0_proj"]["kernel"][0, 0],
        {"layer0_e0_proj"},
    ),
    "reduction-skip": (
        Cell(4, ("skip",), nodes=2, reduction=True),
        (6, 6, 3),
        lambda x, v: (
            jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
            / 4
            @ v["params"]["layer0_e0_proj"]["kernel"][0, 0]
        ),
        {"layer0_e0_proj"},
    ),
    "reduction-conv3x3": (
        Cell(4, ("conv3x3",), nodes=2, reduction=True),
        (6, 6, 3),
        lambda x, v: relu_conv_bn(x, v, "layer0_e0", stride=2),
        {"layer0_e0_conv", "layer0_e0_norm"},
    ),
    "reduction-avgpool": (
        Cell(3, ("avgpool3x3",), nodes=2, reduction=True),
        (6, 6, 3),
        lambda x, v: avg3(x, stride=2),
        set(),
    ),
    # node 1 = conv3x3(x); node 2 = skip(x) + conv1x1(n1): NB201's order of edges
    "two-nodes-summed": (
        Cell(3, ("conv3x3", "skip", "conv1x1"), nodes=3),
        (4, 4, 3),
        lambda x, v: x + relu_conv_bn(relu_conv_bn(x, v, "layer0_e0"), v, "layer0_e2"),
        {"layer0_e0_conv", "layer0_e0_norm", "layer0_e2_conv", "layer0_e2_norm"},
    ),
    # the output node reads only none edges: zeros, even though node 1 has parameters
    "output-reads-none": (
        Cell(3, ("conv3x3", "none", "none"), nodes=3),
        (4, 4, 3),
        lambda x, v: jnp.zeros_like(x),
        {"layer0_e0_conv", "layer0_e0_norm"},
    ),
    "all-none": (Cell(3, ("none",) * 6), (4, 4, 3), lambda x, v: jnp.zeros_like(x), set()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_op_computes_its_reference(case):
    cell, shape, reference, modules = CASES[case]
    model = build_model(Architecture((cell,)), NUM_CLASSES)
    variables = random_variables(model, shape)
    # Positive batch-norm variances that differ from one, so the norm really acts.
    variables = jax.tree_util.tree_map_with_path(
        lambda p, leaf: jnp.abs(leaf) + 0.5 if p[-1].key == "var" else leaf, variables
    )
    assert set(variables["params"]) == modules | {"head"}
    x = inputs(shape)
    logits = model.apply(variables, x)
    want = through_head(reference(jnp.asarray(x), variables), variables)
    np.testing.assert_allclose(logits, want, atol=1e-4, rtol=1e-4)


def test_all_none_cells_give_the_head_bias_and_train():
    architecture = Architecture((Cell(3, ("none",) * 3, nodes=3), Norm("batch"), GlobalPool()))
    model = build_model(architecture, NUM_CLASSES)
    variables = random_variables(model, (4, 4, 2))
    logits = model.apply(variables, inputs((4, 4, 2)))
    assert model_stats(architecture, (4, 4, 2), NUM_CLASSES).n_params == 3 * 2 + 3 * 7 + 7
    # Whatever the input, the network sees zeros: batch norm of zeros, pooled, then the head.
    normed = bn(jnp.zeros((1, 3)), variables, "layer1")
    np.testing.assert_allclose(logits, np.repeat(through_head(normed, variables), 3, 0), 1e-5)


def test_training_updates_the_cells_batch_statistics():
    architecture = Architecture((Cell(4, ("conv3x3", "avgpool3x3", "conv1x1"), nodes=3),))
    model = build_model(architecture, NUM_CLASSES)
    variables = random_variables(model, (4, 4, 2))
    _, updates = model.apply(
        variables,
        inputs((4, 4, 2)),
        train=True,
        dropout_seed=jnp.uint32(1),
        mutable=["batch_stats"],
    )
    # conv3x3, the ReLU-conv1x1-BN before the pool (2 channels to 4), conv1x1
    assert set(updates["batch_stats"]) == {"layer0_e0_norm", "layer0_e1_norm", "layer0_e2_norm"}
    before = variables["batch_stats"]["layer0_e0_norm"]["mean"]
    assert not np.allclose(updates["batch_stats"]["layer0_e0_norm"]["mean"], before)


# NAS-Bench-201's model sizes (millions of parameters, CIFAR-10) of the cells made of one op,
# plus the 16 of our stem conv's bias.
NB201_SIZES = {"conv3x3": 1.531546, "conv1x1": 0.241306, "skip": 0.073306, "none": 0.073306}


@pytest.mark.parametrize(("op", "millions"), list(NB201_SIZES.items()))
def test_nb201_sizes_are_the_benchmarks(op, millions):
    space = load_space(SPACES / "nb201.yaml")
    architecture = space.sample(FixedSuggest({f"ops.{e}": op for e in range(6)}))
    stats = model_stats(architecture, (32, 32, 3), 10)
    assert stats.n_params == round(millions * 1e6) + 16
    variables = abstract_variables(build_model(architecture, 10), (32, 32, 3))
    assert count(variables["params"]) == stats.n_params


@pytest.mark.parametrize(
    ("cell", "shape", "macs"),
    [
        # 3x3 same on 4x4: 36 taps of the 144 land on the input... per axis 3+3+3+3-2 = 10
        (Cell(2, ("conv3x3",), nodes=2), (4, 4, 3), 10 * 10 * 3 * 2),
        (Cell(2, ("conv1x1",), nodes=2), (4, 4, 3), 16 * 3 * 2),
        (Cell(2, ("avgpool3x3",), nodes=2), (4, 4, 3), 16 * 3 * 2),  # its ReLU-conv1x1-BN
        (Cell(3, ("avgpool3x3",), nodes=2), (4, 4, 3), 0),
        (Cell(5, ("skip",), nodes=2, reduction=True), (4, 4, 3), 4 * 3 * 5),
        # stride 2 on 4 positions: outputs 0, 1 read taps -1..1 and 1..3: 2 + 3 per axis
        (Cell(2, ("conv3x3",), nodes=2, reduction=True), (4, 4, 3), 5 * 5 * 3 * 2),
        (Cell(3, ("none",) * 6), (4, 4, 3), 0),
    ],
)
def test_cell_flops_hand_computed(cell, shape, macs):
    head = cell.features * (shape[0] // (2 if cell.reduction else 1)) ** 2 * NUM_CLASSES
    stats = model_stats(Architecture((cell,)), shape, NUM_CLASSES)
    assert stats.flops == 2 * (macs + head)


def test_cell_flops_agree_with_xla():
    architecture = Architecture(
        (
            Cell(4, ("conv3x3", "avgpool3x3", "skip", "conv1x1", "none", "conv3x3")),
            Cell(8, ("conv3x3", "skip", "conv3x3"), nodes=3, reduction=True),
            Activation("relu"),
            GlobalPool(),
        )
    )
    ours = model_stats(architecture, (8, 8, 3), NUM_CLASSES).flops
    model = build_model(architecture, NUM_CLASSES)
    variables = abstract_variables(model, (8, 8, 3), batch=1)
    x = jax.ShapeDtypeStruct((1, 8, 8, 3), jnp.float32)
    xla = jax.jit(model.apply).lower(variables, x).cost_analysis()["flops"]
    # XLA also counts padded taps, pooling, norms and additions.
    assert ours <= xla <= ours * 1.6


def test_a_reduction_needs_an_even_size_and_cells_need_images():
    with pytest.raises(ShapeError, match="must be even"):
        model_stats(Architecture((Cell(2, ("skip",), 2, True),)), (5, 5, 1), 3)
    with pytest.raises(ShapeError, match="cell needs an image input"):
        model_stats(Architecture((Cell(2, ("skip",), 2),)), (5, 1), 3)


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        (Cell(2, ("skip",), nodes=3), "has 1 ops; a 3-node cell has 3 edges"),
        (Cell(2, ("conv5x5",), nodes=2), r"ops\[0\]='conv5x5'"),
        (Cell(2, (), nodes=1), r"nodes=1 is not in \[2, 10\]"),
    ],
)
def test_build_model_rejects_bad_cells(cell, match):
    with pytest.raises(ValueError, match=match):
        build_model(Architecture((cell,)), 3)


def test_labels_spell_the_cell_node_by_node():
    space = load_space(SPACES / "nb201.yaml")
    ops = ("conv3x3", "skip", "conv3x3", "none", "skip", "avgpool3x3")
    architecture = space.sample(FixedSuggest({f"ops.{e}": op for e, op in enumerate(ops)}))
    assert arch_label(architecture) == (
        "conv16-cell16[3|s3|0sp]x5-rcell32[3|s3]-cell32[3|s3|0sp]x5-rcell64[3|s3]"
        "-cell64[3|s3|0sp]x5-batchnorm-relu-globalavg"
    )
    assert short_label(architecture).split()[1] == "cell16[3|s3|0sp]x5"


def test_nb201_string_is_the_benchmarks_key():
    cell = Cell(16, ("conv3x3", "skip", "conv1x1", "none", "avgpool3x3", "conv3x3"))
    assert nb201_string(cell) == (
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    )
