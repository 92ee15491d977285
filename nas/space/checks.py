"""Whether every candidate of a space can be built: by tensor kind at load time, by shape later.

Both checks follow every state a candidate can be in after each template (every repeat count
and option), so a failure means some real candidate fails, and passing means none does. The
layer rules themselves are :func:`nas.model.shapes.output_shape`'s.

Spatial sizes never grow past the input's largest one, and every window or stride above it
acts alike on every size a candidate can have, so the shape check tries a field's values only
up to that size plus the smallest one above: its work depends on the input's size, not on
how large a range the file gives (``kernel_size: {low: 1, high: 1000000000}``).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from nas.errors import SpecError
from nas.model.architecture import LAYER_TYPES, Layer
from nas.model.shapes import Shape, ShapeError, input_kind, output_shape
from nas.space.fields import LAYER_FIELDS, REQUIRED
from nas.space.layers import Template, Templates
from nas.space.params import Choice, Fixed, IntRange, Param

State = TypeVar("State")
# A small shape of each kind: enough to ask output_shape which kind a layer type turns it into.
_PROBES: dict[str, Shape] = {"flat": (4,), "sequence": (4, 1), "image": (4, 4, 1)}
# The only layer fields that change spatial sizes; the others need no enumeration.
SPATIAL_FIELDS = ("kernel_size", "stride", "padding", "window", "reduction")
_UNSET = object()


def check_kinds(space: Templates) -> None:
    """Reject layer orders that fail whatever the input shape: conv, pool or global_pool on a
    flat tensor (the input, or after a dense or global_pool layer), recurrent on anything but
    a sequence. Raises ``SpecError(space.source, "layers[t]" or "layers[t].one_of[i]", ...)``."""
    # Each kind the tensor can have -> why it can (for the message).
    kinds = {space.input_kind: f"the space's input is {space.input_kind}"}
    for t, template in enumerate(space.layers):
        step = functools.partial(_kinds_step, t=t, template=template, source=space.source)
        kinds = _after_repeats(kinds, template, step)


def _kinds_step(current: dict[str, str], t: int, template: Template, source: str) -> dict:
    """The kinds after one more layer of ``template``, each with why it can occur."""
    out: dict[str, str] = {}
    for kind, why in current.items():
        for i, option in enumerate(template.options):
            path = template.path(t, i)
            after = _kind_after(option.type, kind, source, path, why)
            out.setdefault(
                after, why if after == kind else f"{path} ({option.type}) makes it {after}"
            )
    return out


def check_input(space: Templates, shape: tuple[int, ...], source: str) -> None:
    """Raise ``SpecError(source, ...)`` unless every candidate takes inputs of ``shape`` (no
    batch axis): field ``input`` for a wrong kind, ``layers[...]`` for a layer that some
    candidate cannot apply (e.g. pooling that shrinks a spatial size below 1)."""
    try:
        kind = input_kind(shape)
    except ShapeError as err:
        raise SpecError(source, "input", str(err)) from None
    if kind != space.input_kind:
        raise SpecError(
            source,
            "input",
            f"the space is built for {space.input_kind} inputs, but the input shape {shape} "
            f"is {kind}",
        )
    if any(size < 1 for size in shape):
        raise SpecError(source, "input", f"input shape {shape} has a size below 1")
    shared = dict(space.shared)
    names = [name for name in SPATIAL_FIELDS if name in shared]
    largest = max(shape[:-1], default=1)
    # A shared value is one choice for the whole candidate, so each combination is traced on
    # its own rather than letting layers mix them.
    values = (spatial_values(shared[name], largest) for name in names)
    for combo in itertools.product(*values):
        _trace(space, shape, dict(zip(names, combo, strict=True)), source, largest)


def spatial_values(param: Param, largest: int) -> tuple[Any, ...]:
    """The values of a spatial field that can act differently on spatial sizes up to
    ``largest``: every int up to it, the smallest int above it, and every non-int (a padding,
    a null stride). Ranges are never enumerated past ``largest + 1``."""
    if isinstance(param, IntRange):
        top = min(param.high, largest)
        below = tuple(range(param.low, top + 1, param.step)) if param.low <= top else ()
        above = param.low if param.low > largest else below[-1] + param.step
        return below + ((above,) if above <= param.high else ())
    assert isinstance(param, Fixed | Choice), "spatial fields are ints or strings"
    values = param.values()
    above = [v for v in values if isinstance(v, int) and v > largest]
    kept = tuple(v for v in values if not (isinstance(v, int) and v > largest))
    return kept + ((min(above),) if above else ())


def _trace(
    space: Templates, shape: Shape, shared: dict[str, Any], source: str, largest: int
) -> None:
    # Each spatial state a candidate can be in -> None (a dict keeps the order deterministic).
    states: dict[Shape, None] = {_channels_dropped(shape): None}
    for t, template in enumerate(space.layers):
        layers = [
            (template.path(t, i), layer)
            for i, option in enumerate(template.options)
            for layer in _spatial_variants(option.type, dict(option.fields), shared, largest)
        ]
        step = functools.partial(
            _shapes_step, layers=layers, shape=shape, shared=shared, source=source
        )
        states = _after_repeats(states, template, step)


def _shapes_step(
    current: dict[Shape, None],
    layers: list[tuple[str, Layer]],
    shape: Shape,
    shared: dict[str, Any],
    source: str,
) -> dict[Shape, None]:
    """The spatial states after one more layer, any of ``layers`` (path, layer)."""
    out: dict[Shape, None] = {}
    for state in current:
        for path, layer in layers:
            try:
                out[_channels_dropped(output_shape(layer, state))] = None
            except ShapeError as err:
                extra = "".join(f", shared {k}={v!r}" for k, v in shared.items())
                raise SpecError(
                    source,
                    path,
                    f"{err} (input shape {shape}: a candidate reaches this layer with spatial "
                    f"size {state[:-1]}{extra})",
                ) from None
    return out


def _after_repeats(
    states: dict[State, Any], template: Template, step: Callable[[dict], dict]
) -> dict[State, Any]:
    """The states after ``template`` for any of its repeat counts r: ``step`` applied r times,
    merged over r (the first entry of a state wins)."""
    repeats = template.repeats()
    merged: dict[State, Any] = {}
    for r in range(repeats[-1] + 1):
        if r in repeats:
            for state, why in states.items():
                merged.setdefault(state, why)
        if r < repeats[-1]:
            states = step(states)
    return merged


def _kind_after(layer_type: str, kind: str, source: str, path: str, why: str) -> str:
    # Only sizes are required fields, so 1 stands in for each.
    probe = LAYER_TYPES[layer_type](**{name: 1 for name in REQUIRED[layer_type]})
    try:
        return input_kind(output_shape(probe, _PROBES[kind]))
    except ShapeError:
        article = "an" if kind[0] in "aeiou" else "a"
        raise SpecError(
            source, path, f"{layer_type} cannot take {article} {kind} input: {why}"
        ) from None


def _spatial_variants(
    layer_type: str, own: dict[str, Any], shared: dict[str, Any], largest: int
) -> Iterator[Layer]:
    """One layer per combination of its spatial fields' values that can act differently
    (:func:`spatial_values`); the other fields keep stand-ins, since they do not change
    spatial sizes."""
    names = [name for name in SPATIAL_FIELDS if name in LAYER_FIELDS[layer_type]]
    choices = [
        spatial_values(own[name], largest) if name in own else (shared.get(name, _UNSET),)
        for name in names
    ]
    for combo in itertools.product(*choices):
        values = {name: v for name, v in zip(names, combo, strict=True) if v is not _UNSET}
        values.update({name: 1 for name in REQUIRED[layer_type]})
        yield LAYER_TYPES[layer_type](**values)


def _channels_dropped(shape: Shape) -> Shape:
    """``shape`` with its feature axis set to 1: channel counts never decide whether a layer
    applies, and dropping them keeps the set of states small."""
    return (*shape[:-1], 1)
