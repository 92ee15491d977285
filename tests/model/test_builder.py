"""The built Flax module (shapes, skips, dropout, names) and its size before training."""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nas.model import Shape, ShapeError, build_model, dropout, model_stats, trace_shapes
from nas.model.architecture import (
    ACTIVATIONS,
    Architecture,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Norm,
    Pool,
    Recurrent,
)

NUM_CLASSES = 7
BATCH = 3


def arch(*layers, skip: str = "none") -> Architecture:
    return Architecture(layers=tuple(layers), skip=skip)


def abstract_variables(model: nn.Module, input_shape: Shape, batch: int = BATCH) -> dict:
    """Variable shapes from tracing ``init``: nothing allocated, nothing compiled."""
    x = jax.ShapeDtypeStruct((batch, *input_shape), jnp.float32)
    return jax.eval_shape(model.init, jax.random.key(0), x)


def random_variables(model: nn.Module, input_shape: Shape, seed: int = 0) -> dict:
    """Finite variables of the model's tree drawn with NumPy. Forward tests use these because
    a Flax ``init`` compiles a program of its own for every net."""
    rng = np.random.default_rng(seed)

    def draw(path: tuple, leaf: jax.ShapeDtypeStruct) -> np.ndarray:
        if path[-1].key == "var":  # batch-norm running variance must be positive
            return np.ones(leaf.shape, np.float32)
        return (0.5 * rng.standard_normal(leaf.shape)).astype(np.float32)

    return jax.tree_util.tree_map_with_path(draw, abstract_variables(model, input_shape))


def inputs(input_shape: Shape, batch: int = BATCH, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *input_shape)).astype(np.float32)


def count(tree: dict) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(tree))


# (id, architecture, input shape): every layer type, input kind, skip, cell and direction.
NETS = [
    ("mlp", arch(Dense(32), Dense(16, norm="batch", dropout=0.2)), (12,)),
    ("mlp_norm_dropout", arch(Dense(16), Norm("layer"), Dropout(0.5), Norm("batch")), (12,)),
    ("activations", arch(*(Dense(8, activation=a) for a in ACTIVATIONS)), (12,)),
    ("mlp_residual", arch(Dense(12), Dense(16), Dense(16), skip="residual"), (12,)),
    ("mlp_dense", arch(Dense(8), Dense(8, norm="layer"), Dense(4), skip="dense"), (12,)),
    (
        "seq_conv",
        arch(
            Conv(8, kernel_size=5, norm="batch"),
            Pool("avg", window=3, stride=2),
            Conv(8, stride=2),
            GlobalPool("max"),
        ),
        (20, 3),
    ),
    ("seq_conv_valid", arch(Conv(6, padding="valid", norm="layer"), Dense(4)), (9, 2)),
    ("lstm_bidirectional", arch(Recurrent(4, cell="lstm", bidirectional=True)), (5, 3)),
    ("gru_bidirectional", arch(Recurrent(4, bidirectional=True, dropout=0.3)), (5, 3)),
    ("lstm", arch(Recurrent(5, cell="lstm"), GlobalPool()), (5, 3)),
    ("rnn_residual", arch(Recurrent(4), Recurrent(2, bidirectional=True), skip="residual"), (5, 4)),
    ("rnn_dense", arch(Conv(4), Recurrent(4, cell="lstm"), Dense(6), skip="dense"), (5, 3)),
    ("image", arch(Conv(8, norm="batch"), Pool(), Conv(8, kernel_size=1), GlobalPool()), (8, 8, 3)),
    ("image_strided", arch(Conv(4, stride=2), Conv(4, padding="valid"), Dense(8)), (9, 9, 2)),
    (
        "image_residual",
        arch(Conv(8), Conv(8, stride=2), Conv(8, norm="layer"), Pool("max", 2, 1), skip="residual"),
        (8, 8, 3),
    ),
    ("image_dense", arch(Conv(4), Conv(4), Pool(), Conv(4), Dense(8), skip="dense"), (8, 8, 3)),
]
HAS_BATCH_NORM = {"mlp", "mlp_norm_dropout", "seq_conv", "image"}


@pytest.mark.parametrize(("case", "architecture", "input_shape"), NETS, ids=[n[0] for n in NETS])
def test_builds_and_gives_finite_logits(case, architecture, input_shape):
    model = build_model(architecture, NUM_CLASSES)
    variables = random_variables(model, input_shape)

    @jax.jit
    def forward(variables, x, rates, key):
        logits = model.apply(variables, x)
        trained, updates = model.apply(
            variables, x, train=True, dropout_rates=rates, rngs={"dropout": key},
            mutable=["batch_stats"],
        )  # fmt: skip
        return logits, trained, updates

    rates = jnp.asarray(architecture.dropout_rates(), jnp.float32)
    logits, trained, updates = forward(variables, inputs(input_shape), rates, jax.random.key(2))

    for out in (logits, trained):
        assert out.shape == (BATCH, NUM_CLASSES)
        assert out.dtype == jnp.float32
        assert bool(jnp.all(jnp.isfinite(out)))
    # The head sees exactly the shape the shape rules predict for the last layer.
    last = trace_shapes(architecture.layers, input_shape)[-1]
    assert variables["params"]["head"]["kernel"].shape == (math.prod(last), NUM_CLASSES)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree_util.tree_leaves(variables))
    # Training moves every batch-norm running statistic.
    before = jax.tree_util.tree_leaves(variables.get("batch_stats", {}))
    after = jax.tree_util.tree_leaves(updates.get("batch_stats", {}))
    assert len(before) == len(after)
    assert bool(before) == (case in HAS_BATCH_NORM)
    for old, new in zip(before, after, strict=True):
        assert not np.allclose(old, new)


def test_submodule_names():
    architecture = arch(
        Conv(8, norm="batch"), Norm("layer"), Pool(), Dropout(), Conv(4, norm="layer"),
        GlobalPool(), Dense(6), Norm("batch"), skip="residual",
    )  # fmt: skip
    variables = abstract_variables(build_model(architecture, NUM_CLASSES), (8, 8, 3))
    assert set(variables["params"]) == {
        "layer0", "layer0_norm", "layer0_proj", "layer1", "layer4", "layer4_norm",
        "layer4_proj", "layer6", "layer6_proj", "layer7", "head",
    }  # fmt: skip
    assert set(variables["batch_stats"]) == {"layer0_norm", "layer7"}


@pytest.mark.parametrize(
    ("architecture", "path"),
    [
        (arch(Recurrent(4, cell="gru", bidirectional=True)),
         ("layer0", "forward_rnn", "cell", "ir", "kernel")),
        (arch(Recurrent(4, cell="gru", bidirectional=True)),
         ("layer0", "backward_rnn", "cell", "ir", "kernel")),
        (arch(Recurrent(4, cell="lstm")), ("layer0", "cell", "ii", "kernel")),
    ],
)  # fmt: skip
def test_recurrent_parameters_nest_under_the_layer_name(architecture, path):
    params = abstract_variables(build_model(architecture, NUM_CLASSES), (5, 3))["params"]
    assert set(params) == {"layer0", "head"}
    node = params
    for key in path:
        node = node[key]
    assert node.shape == (3, 4)


# --- parameter counts ---------------------------------------------------------------------

# A real Flax init compiles a program per net, so this table is a covering subset of NETS.
INIT_CASES = {"mlp", "mlp_residual", "seq_conv_valid", "gru_bidirectional", "lstm", "image_dense"}
INIT_NETS = [net for net in NETS if net[0] in INIT_CASES]


@pytest.mark.parametrize(
    ("case", "architecture", "input_shape"), INIT_NETS, ids=[n[0] for n in INIT_NETS]
)
def test_n_params_matches_initialised_params(case, architecture, input_shape):
    model = build_model(architecture, NUM_CLASSES)
    x = jnp.zeros((1, *input_shape), jnp.float32)
    variables = jax.jit(model.init)(jax.random.key(0), x)
    assert model_stats(architecture, input_shape, NUM_CLASSES).n_params == count(
        variables["params"]
    )


@pytest.mark.parametrize(
    ("architecture", "input_shape", "expected"),
    [
        (arch(Dense(32)), (64,), 64 * 32 + 32 + 32 * 10 + 10),
        # Batch norm adds scale and bias; its running statistics are not trainable.
        (arch(Dense(32, norm="batch")), (64,), 64 * 32 + 32 + 2 * 32 + 32 * 10 + 10),
        (arch(Conv(8), GlobalPool()), (8, 8, 3), 3 * 3 * 3 * 8 + 8 + 8 * 10 + 10),
        # Residual projection 64 -> 32 has no bias.
        (arch(Dense(32), skip="residual"), (64,), 64 * 32 + 32 + 64 * 32 + 32 * 10 + 10),
        # GRU: input kernels with bias (3), hidden kernels without bias except the candidate's.
        (arch(Recurrent(16)), (10, 4), 3 * 4 * 16 + 3 * 16 + 3 * 16 * 16 + 16 + 160 * 10 + 10),
        # LSTM: input kernels without bias, hidden kernels with bias; two directions.
        (
            arch(Recurrent(8, cell="lstm", bidirectional=True)),
            (5, 3),
            2 * (4 * 3 * 8 + 4 * (8 * 8 + 8)) + 5 * 16 * 10 + 10,
        ),
    ],
)
def test_n_params_hand_computed(architecture, input_shape, expected):
    assert model_stats(architecture, input_shape, 10).n_params == expected


# --- FLOPs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("architecture", "input_shape", "expected_macs"),
    [
        (arch(Dense(32)), (64,), 64 * 32 + 32 * 10),
        (arch(Dense(32), Dense(16), Dropout()), (64,), 64 * 32 + 32 * 16 + 16 * 10),
        # Residual: projection 64 -> 32 on layer 0; identity on layer 1.
        (arch(Dense(32), Dense(32), skip="residual"), (64,), 2 * 64 * 32 + 32 * 32 + 32 * 10),
        # Dense skip: layer 1 sees the input and layer 0's output.
        (arch(Dense(16), Dense(16), skip="dense"), (8,), 8 * 16 + (8 + 16) * 16 + 16 * 10),
        # Valid 3x3 conv on 6x6x2: 4x4 outputs, 9 taps each.
        (arch(Conv(4, padding="valid"), GlobalPool()), (6, 6, 2), 4 * 4 * 9 * 2 * 4 + 4 * 10),
        # Same 3x3 conv on 4x4x1: along one axis the border outputs see 2 real taps, the
        # inner ones 3, so 2 + 3 + 3 + 2 = 10 per axis; the head sees 4x4x4.
        (arch(Conv(4)), (4, 4, 1), 10 * 10 * 1 * 4 + 64 * 10),
        # Stride 2 with kernel 3, "same", on length 5: outputs at 0, 2, 4 see 2, 3, 2 taps.
        (arch(Conv(2, stride=2), GlobalPool()), (5, 3), 7 * 3 * 2 + 2 * 10),
        (arch(Recurrent(16)), (10, 4), 10 * 3 * (4 + 16) * 16 + 160 * 10),
        (
            arch(Recurrent(8, cell="lstm", bidirectional=True)),
            (5, 3),
            2 * 5 * 4 * (3 + 8) * 8 + 5 * 16 * 10,
        ),
    ],
)
def test_flops_hand_computed(architecture, input_shape, expected_macs):
    assert model_stats(architecture, input_shape, 10).flops == 2 * expected_macs


# Dense and conv nets only: XLA costs a recurrent scan's body once, not once per step.
XLA_NETS = [
    arch(Dense(32)),
    arch(Dense(128), Dense(64, norm="layer"), Dense(64)),
    arch(Dense(64), Dense(64), Dense(32), skip="residual"),
    arch(Dense(64), Dense(64), Dense(32), skip="dense"),
    arch(Conv(8), Pool(), Conv(16, stride=2), GlobalPool(), Dense(32)),
    arch(Conv(8, padding="valid"), Conv(8), Conv(16, kernel_size=5)),
    arch(Conv(8), Conv(8), Conv(16), skip="residual"),
    arch(Conv(8), Conv(8), Pool(), Conv(16), skip="dense"),
    arch(Conv(16, stride=2, norm="batch"), Conv(32, stride=2), GlobalPool("max"), Dense(10)),
]
XLA_SHAPES = [(20,), (20,), (20,), (20,), (16, 16, 3), (12, 12, 3), (12, 12, 3), (12, 12, 3),
              (28, 28, 1)]  # fmt: skip
# XLA counts each matrix or conv product as 2 flops per multiply-accumulate and, like us, skips
# "same" padding, so our count is a lower bound of its count. XLA adds about one flop per
# output element for each bias add, activation, residual add and pooling step, and a few for
# norms: relative to a product of fan-in k that is a few / (2 k). With fan-ins of 9 and more
# these nets measure 1% to 5% above ours; 10% leaves room for XLA's costing to shift.
XLA_EXTRA = 0.10


@pytest.mark.parametrize(
    ("architecture", "input_shape"), list(zip(XLA_NETS, XLA_SHAPES, strict=True))
)
def test_flops_agree_with_xla(architecture, input_shape):
    ours = model_stats(architecture, input_shape, NUM_CLASSES).flops
    model = build_model(architecture, NUM_CLASSES)
    variables = abstract_variables(model, input_shape, batch=1)
    x = jax.ShapeDtypeStruct((1, *input_shape), jnp.float32)
    xla = jax.jit(model.apply).lower(variables, x).cost_analysis()["flops"]
    assert ours <= xla <= ours * (1 + XLA_EXTRA)


# --- dropout ------------------------------------------------------------------------------

DROPOUT_NETS = [
    (arch(Dense(32, dropout=0.3), Norm("layer"), Dropout(0.5), Dense(16)), (12,)),
    (arch(Conv(6, dropout=0.2), Pool(), Dropout(0.1), Conv(4), skip="residual"), (6, 6, 2)),
]


@pytest.mark.parametrize(("architecture", "input_shape"), DROPOUT_NETS)
def test_dropout_rate_zero_is_the_eval_output(architecture, input_shape):
    model = build_model(architecture, NUM_CLASSES)
    variables = random_variables(model, input_shape)
    x = inputs(input_shape)
    zeros = jnp.zeros(len(architecture.layers), jnp.float32)
    trained = model.apply(
        variables, x, train=True, dropout_rates=zeros, rngs={"dropout": jax.random.key(3)}
    )
    np.testing.assert_array_equal(trained, model.apply(variables, x))


@pytest.mark.parametrize(("architecture", "input_shape"), DROPOUT_NETS)
def test_dropout_rates_default_to_the_architecture(architecture, input_shape):
    model = build_model(architecture, NUM_CLASSES)
    variables = random_variables(model, input_shape)
    x = inputs(input_shape)
    rngs = {"dropout": jax.random.key(4)}
    rates = jnp.asarray(architecture.dropout_rates(), jnp.float32)
    default = model.apply(variables, x, train=True, rngs=rngs)
    explicit = model.apply(variables, x, train=True, dropout_rates=rates, rngs=rngs)
    np.testing.assert_array_equal(default, explicit)
    assert not np.allclose(default, model.apply(variables, x))


@pytest.mark.parametrize("rate", [0.25, 0.5])
def test_dropout_zeroes_a_rate_fraction_of_units(rate):
    # The gradient of a logit with respect to its head column is the head's input: the
    # dropped-out activations of the only layer.
    units = 2000
    # Any non-zero rate in the architecture makes the rate a traced input of the program.
    model = build_model(arch(Dense(units, activation="identity", dropout=0.1)), NUM_CLASSES)
    variables = random_variables(model, (16,))
    x = inputs((16,), batch=1)

    @jax.jit
    def head_input(rates: jax.Array) -> jax.Array:
        def first_logit(params):
            out = model.apply(
                {"params": params}, x, train=True, dropout_rates=rates,
                rngs={"dropout": jax.random.key(5)},
            )  # fmt: skip
            return out[0, 0]

        return jax.grad(first_logit)(variables["params"])["head"]["kernel"][:, 0]

    kept = head_input(jnp.zeros(1))
    dropped = head_input(jnp.full(1, rate))
    zeroed = dropped == 0
    assert abs(float(zeroed.mean()) - rate) < 0.05
    np.testing.assert_allclose(dropped[~zeroed], kept[~zeroed] / (1 - rate), rtol=1e-5)


def test_dropout_helper_keeps_expectation():
    x = jnp.ones((100_000,))
    out = dropout(x, jnp.float32(0.5), jnp.uint32(0))
    assert set(np.unique(np.asarray(out))) == {0.0, 2.0}
    assert abs(float(out.mean()) - 1.0) < 0.02


def test_dropout_masks_differ_across_seeds_and_look_independent():
    x = jnp.ones((20_000,))
    masks = [np.asarray(dropout(x, jnp.float32(0.3), jnp.uint32(s))) > 0 for s in range(4)]
    np.testing.assert_array_equal(masks[0], np.asarray(dropout(x, 0.3, jnp.uint32(0))) > 0)
    for a in range(4):
        assert abs(masks[a].mean() - 0.7) < 0.02
        for b in range(a + 1, 4):
            # Independent masks agree on 0.7^2 + 0.3^2 = 58% of entries.
            assert abs((masks[a] == masks[b]).mean() - 0.58) < 0.02
    # Neighbouring entries are not correlated either.
    m = masks[0].astype(float)
    assert abs(np.corrcoef(m[:-1], m[1:])[0, 1]) < 0.03


def test_rates_are_traced_not_compiled_in():
    architecture = arch(Dense(32, dropout=0.1), Dropout(0.2), Dense(16, dropout=0.3))
    model = build_model(architecture, NUM_CLASSES)
    variables = random_variables(model, (12,))
    x = inputs((12,))
    traces = 0

    @jax.jit
    def forward(variables, x, rates, key):
        nonlocal traces
        traces += 1
        return model.apply(variables, x, train=True, dropout_rates=rates, rngs={"dropout": key})

    key = jax.random.key(6)
    low = forward(variables, x, jnp.array([0.1, 0.2, 0.3], jnp.float32), key)
    high = forward(variables, x, jnp.array([0.6, 0.0, 0.5], jnp.float32), key)
    assert traces == 1
    assert not np.allclose(low, high)


def test_wrong_rates_shape_raises():
    model = build_model(arch(Dense(8), Dropout()), NUM_CLASSES)
    variables = random_variables(model, (4,))
    with pytest.raises(ValueError, match="dropout_rates"):
        model.apply(
            variables, inputs((4,)), train=True, dropout_rates=jnp.zeros(3),
            rngs={"dropout": jax.random.key(0)},
        )  # fmt: skip


# --- skips --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("architecture", "input_shape", "projections"),
    [
        (arch(Dense(64), skip="residual"), (64,), {}),
        (arch(Dense(32), skip="residual"), (64,), {"layer0_proj": (64, 32)}),
        (arch(Dense(8), skip="residual"), (4, 2), {}),  # flattens: no residual
        (arch(Conv(3), Conv(8), skip="residual"), (6, 6, 3), {"layer1_proj": (3, 8)}),
        (arch(Conv(8, stride=2), skip="residual"), (6, 6, 3), {}),
        (arch(Conv(8, padding="valid"), skip="residual"), (6, 6, 3), {}),
        (arch(Conv(8), Pool(), Conv(8), skip="residual"), (6, 6, 3), {"layer0_proj": (3, 8)}),
        (arch(Recurrent(4, bidirectional=True), skip="residual"), (5, 8), {}),
        (arch(Recurrent(4), skip="residual"), (5, 8), {"layer0_proj": (8, 4)}),
        (arch(Dense(32), skip="none"), (64,), {}),
        (arch(Dense(32), skip="dense"), (64,), {}),
    ],
)
def test_residual_projection_only_where_features_differ(architecture, input_shape, projections):
    params = abstract_variables(build_model(architecture, NUM_CLASSES), input_shape)["params"]
    found = {name: p["kernel"].shape for name, p in params.items() if name.endswith("_proj")}
    assert found == projections
    assert all(set(params[name]) == {"kernel"} for name in projections)  # bias-free


@pytest.mark.parametrize(
    ("layer", "input_shape"),
    [(Dense(12, activation="identity"), (12,)), (Conv(3, activation="identity"), (5, 5, 3))],
)
def test_residual_adds_the_block_input(layer, input_shape):
    # With the block's weights zeroed its output is 0, so the head sees the input itself.
    model = build_model(arch(layer, skip="residual"), NUM_CLASSES)
    variables = random_variables(model, input_shape)
    params = dict(variables["params"])
    params["layer0"] = jax.tree_util.tree_map(jnp.zeros_like, params["layer0"])
    x = inputs(input_shape)
    head = params["head"]
    expected = x.reshape(BATCH, -1) @ head["kernel"] + head["bias"]
    np.testing.assert_allclose(model.apply({"params": params}, x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("architecture", "input_shape", "layer", "kernel_shape"),
    [
        (arch(Dense(16), Dense(16), Dense(4), skip="dense"), (8,), "layer1", (8 + 16, 16)),
        (arch(Dense(16), Dense(16), Dense(4), skip="dense"), (8,), "layer2", (8 + 32, 4)),
        (arch(Dense(16), Norm(), Dense(4), skip="dense"), (8,), "layer2", (16, 4)),
        (arch(Conv(4), Conv(4), skip="dense"), (6, 6, 3), "layer1", (3, 3, 3 + 4, 4)),
        (arch(Conv(4), Pool(), Conv(4), Conv(4), skip="dense"), (6, 6, 3), "layer3",
         (3, 3, 8, 4)),
        (arch(Conv(4, stride=2), Conv(4), skip="dense"), (6, 6, 3), "layer1", (3, 3, 4, 4)),
        (arch(Conv(4), Dense(5), skip="dense"), (3, 3, 2), "layer1", (3 * 3 * (2 + 4), 5)),
        (arch(Conv(4), Conv(5), skip="dense"), (7, 2), "layer1", (3, 2 + 4, 5)),
    ],
)  # fmt: skip
def test_dense_skip_widens_inputs(architecture, input_shape, layer, kernel_shape):
    params = abstract_variables(build_model(architecture, NUM_CLASSES), input_shape)["params"]
    assert params[layer]["kernel"].shape == kernel_shape


@pytest.mark.parametrize(
    ("architecture", "input_shape", "cell_input"),
    [
        (arch(Recurrent(4), Recurrent(3, cell="lstm"), skip="dense"), (5, 2), 2 + 4),
        (arch(Recurrent(4, bidirectional=True), Recurrent(3), skip="dense"), (5, 2), 2 + 8),
    ],
)
def test_dense_skip_widens_recurrent_inputs(architecture, input_shape, cell_input):
    params = abstract_variables(build_model(architecture, NUM_CLASSES), input_shape)["params"]
    cell = params["layer1"]["cell"]
    gate = "ii" if "ii" in cell else "ir"
    assert cell[gate]["kernel"].shape == (cell_input, 3)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("architecture", "input_shape"),
    [
        (arch(Conv(8)), (16,)),
        (arch(Pool()), (16,)),
        (arch(GlobalPool()), (16,)),
        (arch(Recurrent(4)), (8, 8, 3)),
        (arch(Recurrent(4)), (16,)),
        (arch(Conv(8, kernel_size=5, padding="valid")), (4, 3)),
        (arch(Pool(window=4)), (3, 3, 1)),
        (arch(Dense(8), Conv(4)), (4, 4, 1)),
        (arch(Dense(8)), (2, 2, 2, 2)),
    ],
)
def test_unbuildable_architecture_raises_shape_error(architecture, input_shape):
    with pytest.raises(ShapeError):
        model_stats(architecture, input_shape, NUM_CLASSES)
    with pytest.raises(ShapeError):
        abstract_variables(build_model(architecture, NUM_CLASSES), input_shape)


@pytest.mark.parametrize(
    ("architecture", "num_classes", "match"),
    [
        (arch(Dense(8)), 0, "num_classes"),
        (arch(Dense(8, activation="softplus")), 3, "activation"),
        (arch(Dense(8, norm="group")), 3, "norm"),
        (arch(Conv(8, padding="full")), 3, "padding"),
        (arch(Recurrent(8, cell="rnn")), 3, "cell"),
        (arch(Pool(kind="sum")), 3, "kind"),
        (arch(Norm(kind="none")), 3, "kind"),
        (arch(Dense(8), skip="highway"), 3, "skip"),
    ],
)
def test_build_model_rejects_unknown_values(architecture, num_classes, match):
    with pytest.raises(ValueError, match=match):
        build_model(architecture, num_classes)


def test_a_zero_dropout_rate_draws_no_mask_and_has_its_own_signature():
    def program(rate: float) -> str:
        model = build_model(arch(Dense(32, dropout=rate)), NUM_CLASSES)
        variables = random_variables(model, (16,))
        rates = jnp.full(1, rate)

        def train_apply(x):
            return model.apply(variables, x, train=True, dropout_rates=rates, dropout_seed=7)

        return str(jax.make_jaxpr(train_apply)(inputs((16,), batch=4)))

    # The mask is a counter hash: shifts of uint32 values; rate 0 has none of it.
    assert "shift_right_logical" in program(0.2)
    assert "shift_right_logical" not in program(0.0)
    assert arch(Dense(32, dropout=0.1)).signature() == arch(Dense(32, dropout=0.3)).signature()
    assert arch(Dense(32, dropout=0.0)).signature() != arch(Dense(32, dropout=0.3)).signature()
