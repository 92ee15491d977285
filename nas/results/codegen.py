"""An architecture spelled out as a standalone Flax module: Python source a person can read.

:func:`module_source` writes the code of one file that imports only ``jax`` and ``flax``:
a ``Net`` module whose ``__call__`` lists the layers one by one with their literal sizes,
``load_variables(path)`` and a jitted ``predict(variables, x)``. The code computes what
:class:`nas.builder.CandidateNet` computes with ``train=False`` (dropout off, batch norm on
its running statistics), under the same parameter names, so the builder's variables load
unchanged. Skip wiring is resolved here, from the static shapes, so the emitted code holds
no loops, no conditions and no configuration.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from nas.architecture import (
    Architecture,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Layer,
    Norm,
    Pool,
    Recurrent,
)
from nas.builder import BLOCKS, build_model
from nas.shapes import Shape, input_kind, trace_shapes

# Each activation as the builder applies it (nas.builder.ACTIVATION_FNS), as code on `v`.
ACTIVATION_CODE = {
    "relu": "nn.relu({v})",
    "gelu": "nn.gelu({v})",
    "silu": "nn.silu({v})",
    "swish": "nn.silu({v})",
    "tanh": "jnp.tanh({v})",
    "sigmoid": "nn.sigmoid({v})",
    "elu": "nn.elu({v})",
    "leaky_relu": "nn.leaky_relu({v}, negative_slope=0.01)",
    "identity": "{v}",
}
CELL_CODE = {"gru": "nn.GRUCell", "lstm": "nn.OptimizedLSTMCell"}
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
    ``ValueError`` (or :class:`~nas.shapes.ShapeError`) where the builder would refuse
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
            f"Input: float32 {batch_shape}. Output: logits (batch, {num_classes}). "
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
            "@jax.jit",
            "def predict(variables: dict, x: jax.Array) -> jax.Array:",
            '    """Logits (batch, NUM_CLASSES) for ``x`` of shape (batch, *INPUT_SHAPE)."""',
            "    return Net().apply(variables, x)",
            "",
        ]
    )


def _call_body(arch: Architecture, input_shape: Shape, num_classes: int) -> list[str]:
    shapes = trace_shapes(arch.layers, input_shape)
    kept = _kept_tensors(arch, input_shape, shapes)
    lines = [f"{BODY}x = jnp.asarray(x, jnp.float32)  # {_batch_shape(input_shape)}"]
    if -1 in kept:
        lines.append(f"{BODY}{INPUT_NAME} = x  # read again by the dense skips below")
    shape = input_shape
    group: list[tuple[int, Shape]] = [(-1, input_shape)]  # dense skip: as in the builder
    explained_cells = False
    for i, (layer, out) in enumerate(zip(arch.layers, shapes, strict=True)):
        if isinstance(layer, BLOCKS):
            inputs = shape
            if arch.skip == "dense" and len(group) > 1:
                names = [_tensor_name(j) for j, _ in group[:-1]] + ["x"]
                inputs = (*shape[:-1], sum(s[-1] for _, s in group))
            residual = arch.skip == "residual" and inputs[:-1] == out[:-1]
            note = ""
            if residual:
                note = "residual" if inputs[-1] == out[-1] else "residual through a projection"
            if arch.skip == "dense" and len(group) > 1:
                note = "dense skip: reads earlier outputs too"
            lines += _comment(_describe(i, layer, inputs, out, note))
            if isinstance(layer, Recurrent) and not explained_cells:
                explained_cells = True
                lines += _comment(
                    "Cells are made with parent=None, so that their parameters nest under "
                    f"the layer's name (layer{i}/...), as in the searched model."
                )
            if arch.skip == "dense" and len(group) > 1:
                lines.append(f"{BODY}x = jnp.concatenate([{', '.join(names)}], axis=-1)")
            lines += _block_lines(i, layer, inputs, target="h" if residual else "x")
            if residual:
                skip = "x"
                if inputs[-1] != out[-1]:
                    skip = f'nn.Dense({out[-1]}, use_bias=False, name="layer{i}_proj")(x)'
                lines.append(f"{BODY}x = h + {skip}")
            same = out[:-1] == group[0][1][:-1]
            group = [*group, (i, out)] if same else [(i, out)]
            if i in kept:
                lines.append(f"{BODY}{_tensor_name(i)} = x")
        else:
            lines += _comment(_describe(i, layer, shape, out, ""))
            lines += _plain_lines(i, layer, shape)
            group = [(i, out)]
            if i in kept:
                lines.append(f"{BODY}{_tensor_name(i)} = x")
        shape = out
    lines += _comment(f"head: {num_classes} logits")
    if len(shape) > 1:
        lines.append(f"{BODY}x = x.reshape(x.shape[0], -1)")
    lines.append(f'{BODY}return nn.Dense({num_classes}, name="head")(x)')
    return lines


def _kept_tensors(arch: Architecture, input_shape: Shape, shapes: list[Shape]) -> set[int]:
    """Tensors (-1: the input, i: layer i's output) that a later dense-skip concatenation
    reads besides the current ``x``: only these get a name of their own."""
    if arch.skip != "dense":
        return set()
    kept: set[int] = set()
    group: list[tuple[int, Shape]] = [(-1, input_shape)]
    for i, (layer, out) in enumerate(zip(arch.layers, shapes, strict=True)):
        if isinstance(layer, BLOCKS):
            if len(group) > 1:
                kept.update(j for j, _ in group[:-1])
            same = out[:-1] == group[0][1][:-1]
            group = [*group, (i, out)] if same else [(i, out)]
        else:
            group = [(i, out)]
    return kept


def _comment(text: str) -> list[str]:
    # Shapes such as "(batch, 8, 8, 16)" stay whole on one line.
    glued = re.sub(r"\([^)]*\)", lambda m: m.group(0).replace(" ", "\0"), text)
    lines = textwrap.wrap(glued, WIDTH - len(BODY) - 2, break_on_hyphens=False)
    return [f"{BODY}# {line}".replace("\0", " ") for line in lines]


def _tensor_name(index: int) -> str:
    return INPUT_NAME if index < 0 else f"layer{index}_out"


def _block_lines(i: int, layer: Layer, inputs: Shape, target: str) -> list[str]:
    """A block's op, norm and activation, reading ``x`` and leaving the result in ``target``."""
    name = f"layer{i}"
    source = "x"
    lines = []
    if isinstance(layer, Recurrent):
        cell = f"{CELL_CODE[layer.cell]}({layer.features}, parent=None)"
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
    if layer.activation != "identity":
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
    if kind == "batch":
        return f'nn.BatchNorm(use_running_average=True, momentum=0.9, name="{name}")'
    return f'nn.LayerNorm(name="{name}")'


def _plain_lines(i: int, layer: Layer, shape: Shape) -> list[str]:
    n_spatial = len(shape) - 1
    if isinstance(layer, Pool):
        window = _tuple((layer.window,) * n_spatial)
        strides = _tuple((layer.stride or layer.window,) * n_spatial)
        fn = "nn.max_pool" if layer.kind == "max" else "nn.avg_pool"
        return [f'{BODY}x = {fn}(x, {window}, strides={strides}, padding="VALID")']
    if isinstance(layer, GlobalPool):
        axes = "1" if n_spatial == 1 else _tuple(tuple(range(1, n_spatial + 1)))
        fn = "jnp.max" if layer.kind == "max" else "jnp.mean"
        return [f"{BODY}x = {fn}(x, axis={axes})"]
    if isinstance(layer, Norm):
        return [f"{BODY}x = {_norm_code(layer.kind, f'layer{i}')}(x)"]
    assert isinstance(layer, Dropout)
    return []  # dropout is the identity at inference


def _describe(i: int, layer: Layer, inputs: Shape, out: Shape, note: str) -> str:
    """The comment above a layer's code: what it is and the shape it leaves."""
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
    else:
        assert isinstance(layer, Dropout)
        parts = [f"dropout {layer.rate:.3g} (off at inference)"]
    if isinstance(layer, Dense | Conv):
        if layer.norm != "none":
            parts.append(f"{layer.norm} norm")
        if layer.activation != "identity":
            parts.append(layer.activation)
    if isinstance(layer, Dense | Conv | Recurrent) and layer.dropout > 0:
        parts.append(f"dropout {layer.dropout:.3g} (off at inference)")
    if note:
        parts.append(note)
    return f"layer {i}: {', '.join(parts)} -> {_batch_shape(out)}"


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
