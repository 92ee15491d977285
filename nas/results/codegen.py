"""An architecture spelled out as a standalone Flax module: Python source a person can read.

:func:`module_source` writes the code of one file that imports only ``jax`` and ``flax``:
a ``Net`` module whose ``__call__`` lists the layers one by one with their literal sizes,
``load_variables(path)``, ``check_input(x)`` (``Net`` calls it first: an input of another
shape raises ``ValueError`` naming the expected one) and a jitted ``predict(variables, x)``.
The code computes what :class:`nas.model.builder.CandidateNet` computes with ``train=False``
(dropout off, batch norm on its running statistics), under the same parameter names, so the
builder's variables load unchanged. It follows the builder's skip plan
(:func:`nas.model.skip_plan`) and op tables (``nas.model.*_OPS``), resolved here from the
static shapes, so the network's code holds no loops, no conditions and no configuration.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from nas.model import (
    ACTIVATION_OPS,
    NETWORK_INPUT,
    NORM_OPS,
    POOL_OPS,
    RNN_CELL_OPS,
    Activation,
    Architecture,
    Cell,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    LayerWiring,
    Norm,
    Op,
    Pool,
    Recurrent,
    Shape,
    build_model,
    input_kind,
    skip_plan,
)
from nas.results.cellcode import cell_comment, cell_helpers, cell_lines


def _op_code(op: Op, *args: str, name: str | None = None) -> str:
    """``op`` called as code: ``args`` (already code), then the op's keywords, then ``name``."""
    kwargs = [f"{key}={value!r}" for key, value in op.kwargs]
    if name is not None:
        kwargs.append(f'name="{name}"')
    return f"{op.namespace}.{op.attribute}({', '.join([*args, *kwargs])})"


# Each activation as the builder applies it, as code on `v`.
ACTIVATION_CODE = {
    name: "{v}" if op is None else _op_code(op, "{v}") for name, op in ACTIVATION_OPS.items()
}
INPUT_NAME = "inputs"
BODY = " " * 8  # indentation of the lines of __call__
WIDTH = 88  # ruff's default line length: the file is checked with no project settings


def module_source(
    arch: Architecture,
    input_shape: Shape,
    num_classes: int,
    *,
    title: str = "A network found by architecture search, as plain Flax code.",
    notes: Sequence[str] = (),
    weights_name: str = "weights.msgpack",
) -> str:
    """The source of a standalone module for ``arch`` on inputs of ``input_shape`` (no batch
    axis) with a ``num_classes``-way head.

    ``title`` is the first line of the module docstring and each of ``notes`` a paragraph
    after it (wrapped to fit); ``weights_name`` is the file the usage example loads. Raises
    ``ValueError`` (or :class:`~nas.model.shapes.ShapeError`) where the builder would refuse
    ``arch`` or the shapes do not fit.
    """
    build_model(arch, num_classes)  # the builder's own checks of names and sizes
    input_shape = tuple(int(s) for s in input_shape)
    input_kind(input_shape)
    body = _call_body(arch, input_shape, num_classes)
    batch_shape = _batch_shape(input_shape)
    docstring = _docstring(
        title,
        [
            *notes,
            f"Input: float32 {batch_shape}; another shape raises ValueError naming this "
            f"one. Output: logits (batch, {num_classes}). "
            "Inference only: dropout is off and batch norm uses its running statistics.",
        ],
        usage=[
            f'variables = load_variables("{weights_name}")',
            f"logits = predict(variables, x)  # x: {batch_shape}",
        ],
    )
    return "\n".join(
        [
            docstring,
            "",
            "import flax.linen as nn",
            "import jax",
            "import jax.numpy as jnp",
            "from flax import serialization",
            "",
            f"INPUT_SHAPE = {_tuple(input_shape)}",
            f"NUM_CLASSES = {num_classes}",
            "",
            "",
            *cell_helpers(arch),
            "class Net(nn.Module):",
            *_class_docstring(_summary(arch)),
            "",
            "    @nn.compact",
            "    def __call__(self, x: jax.Array) -> jax.Array:",
            *body,
            "",
            "",
            "def load_variables(path: str) -> dict:",
            '    """The trained variables (``params``, and ``batch_stats`` where the network has',
            '    batch norm) from a msgpack file written by ``flax.serialization``."""',
            '    with open(path, "rb") as file:',
            "        return serialization.msgpack_restore(file.read())",
            "",
            "",
            *_check_input_code(input_shape),
            "",
            "",
            "@jax.jit",
            "def predict(variables: dict, x: jax.Array) -> jax.Array:",
            '    """Logits (batch, NUM_CLASSES) for ``x`` of shape (batch, *INPUT_SHAPE); another',
            '    shape raises ``ValueError`` (:func:`check_input`)."""',
            "    return Net().apply(variables, x)",
            "",
        ]
    )


def _call_body(arch: Architecture, input_shape: Shape, num_classes: int) -> list[str]:
    plan = skip_plan(arch, input_shape)
    lines = [
        f"{BODY}check_input(x)",
        f"{BODY}x = jnp.asarray(x, jnp.float32)  # {_batch_shape(input_shape)}",
    ]
    # Only tensors that a later concatenation reads besides x get a name of their own.
    if NETWORK_INPUT in plan.kept:
        lines.append(f"{BODY}{INPUT_NAME} = x  # read again by the dense skips below")
    explained_cells = False
    for wiring in plan.layers:
        i, layer = wiring.index, wiring.layer
        if wiring.block:
            note = ""
            if wiring.residual:
                note = "residual through a projection" if wiring.projection else "residual"
            if wiring.concat:
                note = "dense skip: reads earlier outputs too"
            lines += _comment(_describe(wiring, note))
            if isinstance(layer, Recurrent) and not explained_cells:
                explained_cells = True
                lines += _comment(
                    "Cells are made with parent=None, so that their parameters nest under "
                    f"the layer's name (layer{i}/...), as in the searched model."
                )
            if wiring.concat:
                names = [*map(_tensor_name, wiring.concat), "x"]
                lines.append(f"{BODY}x = jnp.concatenate([{', '.join(names)}], axis=-1)")
            lines += _block_lines(wiring, target="h" if wiring.residual else "x")
            if wiring.residual:
                skip = "x"
                if wiring.projection:
                    features = wiring.output_shape[-1]
                    skip = f'nn.Dense({features}, use_bias=False, name="layer{i}_proj")(x)'
                lines.append(f"{BODY}x = h + {skip}")
        elif isinstance(layer, Cell):
            lines += _comment(cell_comment(wiring))
            lines += cell_lines(wiring)
        else:
            lines += _comment(_describe(wiring, ""))
            lines += _plain_lines(wiring)
        if i in plan.kept:
            lines.append(f"{BODY}{_tensor_name(i)} = x")
    lines += _comment(f"head: {num_classes} logits")
    if len(plan.output_shape) > 1:
        lines.append(f"{BODY}x = x.reshape(x.shape[0], -1)")
    lines.append(f'{BODY}return nn.Dense({num_classes}, name="head")(x)')
    return lines


def _check_input_code(input_shape: Shape) -> list[str]:
    """``check_input(x)``: a ``ValueError`` naming the expected shape for an input of another
    one (Flax would fail deep inside a layer, on a parameter's shape), with the fix for the
    usual slips: one example without its batch axis, an image or sequence without its
    channel axis of size 1."""
    lines = [
        "def check_input(x: jax.Array) -> None:",
        '    """Raise ``ValueError`` unless ``x`` has the shape (batch, *INPUT_SHAPE)."""',
        "    shape = tuple(jnp.shape(x))",
        "    if shape[1:] == INPUT_SHAPE:",
        "        return",
        '    hint = ""',
        "    if shape == INPUT_SHAPE:",
        '        hint = "; for one example, add the batch axis: x[None]"',
    ]
    if len(input_shape) > 1 and input_shape[-1] == 1:
        lines += [
            "    elif shape[1:] == INPUT_SHAPE[:-1]:",
            '        hint = "; add the channel axis: x[..., None]"',
        ]
    return [
        *lines,
        f'    expected = "{_batch_shape(input_shape)}"',
        '    raise ValueError(f"expected x of shape {expected}, got {shape}{hint}")',
    ]


def _comment(text: str) -> list[str]:
    # Shapes such as "(batch, 8, 8, 16)" stay whole on one line.
    glued = re.sub(r"\([^)]*\)", lambda m: m.group(0).replace(" ", "\0"), text)
    lines = textwrap.wrap(glued, WIDTH - len(BODY) - 2, break_on_hyphens=False)
    return [f"{BODY}# {line}".replace("\0", " ") for line in lines]


def _tensor_name(index: int) -> str:
    return INPUT_NAME if index == NETWORK_INPUT else f"layer{index}_out"


def _block_lines(wiring: LayerWiring, target: str) -> list[str]:
    """A block's op, norm and activation, reading ``x`` and leaving the result in ``target``."""
    layer, inputs, name = wiring.layer, wiring.block_input, f"layer{wiring.index}"
    source = "x"
    lines = []
    if isinstance(layer, Recurrent):
        cell = _op_code(RNN_CELL_OPS[layer.cell], str(layer.features), "parent=None")
        if layer.bidirectional:
            lines += [
                f"{BODY}forward = nn.RNN({cell}, parent=None)",
                f"{BODY}backward = nn.RNN({cell}, parent=None)",
                f'{BODY}{target} = nn.Bidirectional(forward, backward, name="{name}")(x)',
            ]
        else:
            lines.append(f'{BODY}{target} = nn.RNN({cell}, name="{name}")(x)')
        return lines
    if isinstance(layer, Dense):
        if len(inputs) > 1:
            lines.append(f"{BODY}{target} = {source}.reshape({source}.shape[0], -1)")
            source = target
        lines.append(f'{BODY}{target} = nn.Dense({layer.features}, name="{name}")({source})')
    else:
        assert isinstance(layer, Conv)
        n_spatial = len(inputs) - 1
        args = [str(layer.features), f"kernel_size={_tuple((layer.kernel_size,) * n_spatial)}"]
        if layer.stride != 1:
            args.append(f"strides={_tuple((layer.stride,) * n_spatial)}")
        args += [f'padding="{layer.padding.upper()}"', f'name="{name}"']
        lines += _call_lines(target, "nn.Conv", args, source)
    if layer.norm != "none":
        lines.append(f"{BODY}{target} = {_norm_code(layer.norm, name + '_norm')}({target})")
    if ACTIVATION_OPS[layer.activation] is not None:
        code = ACTIVATION_CODE[layer.activation].format(v=target)
        lines.append(f"{BODY}{target} = {code}")
    return lines


def _call_lines(target: str, fn: str, args: list[str], source: str) -> list[str]:
    """``target = fn(args...)(source)``, split over lines as ruff format would split it."""
    line = f"{BODY}{target} = {fn}({', '.join(args)})({source})"
    if len(line) <= WIDTH:
        return [line]
    inner = BODY + "    "
    return [
        f"{BODY}{target} = {fn}(",
        *(f"{inner}{arg}," for arg in args),
        f"{BODY})({source})",
    ]


def _norm_code(kind: str, name: str) -> str:
    mode = ["use_running_average=True"] if kind == "batch" else []
    return _op_code(NORM_OPS[kind], *mode, name=name)


def _plain_lines(wiring: LayerWiring) -> list[str]:
    layer, n_spatial = wiring.layer, len(wiring.input_shape) - 1
    if isinstance(layer, Pool):
        window = _tuple((layer.window,) * n_spatial)
        strides = _tuple((layer.stride or layer.window,) * n_spatial)
        pool = _op_code(
            POOL_OPS[layer.kind].window, "x", window, f"strides={strides}", 'padding="VALID"'
        )
        return [f"{BODY}x = {pool}"]
    if isinstance(layer, GlobalPool):
        axes = "1" if n_spatial == 1 else _tuple(tuple(range(1, n_spatial + 1)))
        return [f"{BODY}x = {_op_code(POOL_OPS[layer.kind].reduce, 'x', f'axis={axes}')}"]
    if isinstance(layer, Norm):
        return [f"{BODY}x = {_norm_code(layer.kind, f'layer{wiring.index}')}(x)"]
    if isinstance(layer, Activation):
        code = ACTIVATION_CODE[layer.activation].format(v="x")
        return [] if code == "x" else [f"{BODY}x = {code}"]
    assert isinstance(layer, Dropout)
    return []  # dropout is the identity at inference


def _describe(wiring: LayerWiring, note: str) -> str:
    """The comment above a layer's code: what it is and the shape it leaves."""
    layer, inputs = wiring.layer, wiring.block_input
    if isinstance(layer, Dense):
        parts = [f"dense {layer.features}"]
    elif isinstance(layer, Conv):
        kernel = "x".join([str(layer.kernel_size)] * (len(inputs) - 1))
        parts = [f"conv {layer.features}, kernel {kernel}"]
        if layer.stride != 1:
            parts.append(f"stride {layer.stride}")
        parts.append(f"{layer.padding} padding")
    elif isinstance(layer, Recurrent):
        direction = "bidirectional " if layer.bidirectional else ""
        parts = [f"{direction}{layer.cell.upper()} {layer.features}"]
    elif isinstance(layer, Pool):
        parts = [f"{layer.kind} pool {layer.window}"]
        if layer.stride and layer.stride != layer.window:
            parts.append(f"stride {layer.stride}")
    elif isinstance(layer, GlobalPool):
        parts = [f"global {layer.kind} pool"]
    elif isinstance(layer, Norm):
        parts = [f"{layer.kind} norm"]
    elif isinstance(layer, Activation):
        parts = [layer.activation]
    else:
        assert isinstance(layer, Dropout)
        parts = [f"dropout {layer.rate:.3g} (off at inference)"]
    if isinstance(layer, Dense | Conv):
        if layer.norm != "none":
            parts.append(f"{layer.norm} norm")
        if ACTIVATION_OPS[layer.activation] is not None:
            parts.append(layer.activation)
    if isinstance(layer, Dense | Conv | Recurrent) and layer.dropout > 0:
        parts.append(f"dropout {layer.dropout:.3g} (off at inference)")
    if note:
        parts.append(note)
    return f"layer {wiring.index}: {', '.join(parts)} -> {_batch_shape(wiring.output_shape)}"


def _summary(arch: Architecture) -> str:
    kinds = "-".join(layer.type for layer in arch.layers) or "linear"
    skip = {"none": "", "residual": ", residual skips", "dense": ", dense skips"}[arch.skip]
    return f"{len(arch.layers)} layers ({kinds}){skip}, then a dense head."


def _class_docstring(text: str) -> list[str]:
    lines = textwrap.wrap(_escape(text), WIDTH - 10)
    if len(lines) == 1:
        return [f'    """{lines[0]}"""']
    return [f'    """{lines[0]}', *(f"    {line}" for line in lines[1:]), '    """']


def _docstring(title: str, paragraphs: Sequence[str], usage: Sequence[str]) -> str:
    lines = [_escape(title)]
    for paragraph in paragraphs:
        lines.append("")
        lines += textwrap.wrap(_escape(paragraph), WIDTH) or [""]
    lines += ["", "Usage::", ""]
    lines += [f"    {line}" for line in usage]
    return '"""' + "\n".join(lines) + '\n"""'


def _escape(text: str) -> str:
    """Text safe inside a triple-quoted docstring."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _tuple(values: tuple[int, ...]) -> str:
    return f"({values[0]},)" if len(values) == 1 else f"({', '.join(map(str, values))})"


def _batch_shape(shape: Shape) -> str:
    return f"(batch, {', '.join(map(str, shape))})"
