"""Candidates in a word: the label of every layer type and of whole architectures."""

from __future__ import annotations

from nas.model import (
    Architecture,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Norm,
    Pool,
    Recurrent,
    arch_label,
    describe,
)


def test_each_layer_type_has_a_short_label():
    arch = Architecture(
        (
            Conv(16),
            Conv(32, kernel_size=5),
            Pool("max"),
            Pool("avg", window=3),
            Norm("batch"),
            Dropout(0.2),
            Recurrent(8, "gru"),
            Recurrent(4, "lstm", bidirectional=True),
            GlobalPool("avg"),
            Dense(10),
        )
    )
    assert arch_label(arch) == (
        "conv16-conv32-maxpool2-avgpool3-batchnorm-dropout-gru8-bilstm4-globalavg-dense10"
    )
    assert arch_label(Architecture(())) == "linear"


def test_describe_adds_skip_and_learning_rate_to_the_label():
    arch = Architecture((Dense(64), Dense(32)), "residual", learning_rate=1.2e-3)
    assert describe(arch) == "dense64-dense32 skip=residual lr=1.2e-03"
