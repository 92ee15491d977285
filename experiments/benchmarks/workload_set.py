"""The workloads of ``workloads.py``: one per shipped experiment file, each with the
candidates of its space that the fixed-architecture rows train."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Workload:
    """One shipped experiment and the candidates of its space that the fixed rows train
    (``name -> drawn parameter values``, replayed through the space)."""

    experiment: str
    peak: str  # the peak its rows are measured against: matmul, conv1d or conv2d
    candidates: dict[str, dict] = field(default_factory=dict)

    @property
    def conv(self) -> bool:
        return self.peak.startswith("conv")


def layers(template: int, *values: dict) -> dict:
    """The drawn values of the layers that template ``template`` makes, one dict each (a
    template with a fixed repeat ignores its ``repeat`` key)."""
    drawn: dict = {f"layers.{template}.repeat": len(values)}
    for k, layer in enumerate(values):
        drawn.update({f"layers.{template}.{k}.{name}": v for name, v in layer.items()})
    return drawn


def optimizer(batch_size: int) -> dict:
    return {
        "optimizer.learning_rate": 3e-3,
        "optimizer.weight_decay": 1e-4,
        "optimizer.batch_size": batch_size,
    }


DENSE = {"norm": "none", "dropout": 0.0}
WORKLOADS = {
    "digits_mlp": Workload(
        "digits_mlp.yaml",
        "matmul",
        {
            "dense64": {
                "skip": "none",
                "activation": "relu",
                **layers(0, {"features": 64, **DENSE}),
                **optimizer(64),
            },
            "dense256x3 layer-norm residual": {
                "skip": "residual",
                "activation": "gelu",
                **layers(0, *[{"features": 256, "norm": "layer", "dropout": 0.1}] * 3),
                **optimizer(32),
            },
        },
    ),
    "digits_cnn": Workload(
        "digits_cnn.yaml",
        "conv2d",
        {
            "conv16": {
                "skip": "none",
                "activation": "relu",
                **layers(0, {"features": 16, "kernel_size": 3, "norm": "none"}),
                **layers(1),
                **layers(2),
                **optimizer(64),
            },
            "conv32k5x3 bn residual, maxpool, dense128": {
                "skip": "residual",
                "activation": "silu",
                **layers(0, *[{"features": 32, "kernel_size": 5, "norm": "batch"}] * 3),
                **layers(1, {"kind": "max"}),
                **layers(2, {"features": 128, "dropout": 0.1}),
                **optimizer(32),
            },
        },
    ),
    "mnist1d_cnn": Workload(
        "mnist1d_cnn.yaml",
        "conv1d",
        {
            # The candidate of the issue that measured the toolkit 16x slower than by hand.
            "conv16k3-64k7-32k7 bn residual, global max": {
                "skip": "residual",
                "activation": "silu",
                **layers(
                    0,
                    *[
                        {"features": f, "kernel_size": k, "stride": 1, "norm": "batch"}
                        for f, k in ((16, 3), (64, 7), (32, 7))
                    ],
                ),
                **layers(1),
                **layers(2, {"kind": "max"}),
                **layers(3),
                **optimizer(64),
            },
            "conv32k5s2-32k3s2, maxpool, dense64": {
                "skip": "none",
                "activation": "relu",
                **layers(
                    0,
                    *[
                        {"features": 32, "kernel_size": k, "stride": 2, "norm": "none"}
                        for k in (5, 3)
                    ],
                ),
                **layers(1, {"kind": "max"}),
                **layers(2),
                **layers(3, {"features": 64, "dropout": 0.1}),
                **optimizer(128),
            },
        },
    ),
    "mnist1d_rnn": Workload(
        "mnist1d_rnn.yaml",
        "matmul",
        {
            "gru32, global avg": {
                "skip": "none",
                "cell": "gru",
                **layers(0, {"features": 32, "bidirectional": False}),
                **layers(1, {}),
                **layers(2),
                **optimizer(64),
            },
            "lstm64x2 bidirectional residual, dense64": {
                "skip": "residual",
                "cell": "lstm",
                **layers(0, *[{"features": 64, "bidirectional": True}] * 2),
                **layers(1),
                **layers(2, {"features": 64, "activation": "relu", "dropout": 0.1}),
                **optimizer(64),
            },
        },
    ),
    "shapes32_cnn": Workload(
        "shapes32_cnn.yaml",
        "conv2d",
        {
            "stem8, conv8, conv16s2": {
                "activation": "relu",
                **layers(0, {"features": 8}),
                **layers(1, {"features": 8}),
                **layers(2, {"features": 16}),
                **layers(3),
                **layers(5),
                **optimizer(128),
            },
            "stem16, conv16x2, conv32s2, conv32x2, dense64": {
                "activation": "silu",
                **layers(0, {"features": 16}),
                **layers(1, *[{"features": 16}] * 2),
                **layers(2, {"features": 32}),
                **layers(3, *[{"features": 32}] * 2),
                **layers(5, {"dropout": 0.1}),
                **optimizer(64),
            },
        },
    ),
}
