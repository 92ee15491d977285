"""Small real searches shared by the analysis, report, export and notebook tests.

Each study is searched once per test session (``searched``) into a folder of its own:

- ``mlp``: synthetic blobs, flat; 1-2 dense layers with residual skips (projected where the
  width changes), batch/layer norm, dropout; one objective; a parameter limit rejects some
  candidates, so the study holds failed trials too; every trial keeps its weights.
- ``cnn``: digits as 8x8 images; convolutions with dense skips and batch norm, pooling, a
  dense layer; two objectives (accuracy up, parameters down), so a Pareto front.
- ``rnn``: digits read row by row as sequences of 8 steps; bidirectional or plain GRU/LSTM
  layers with residual skips, global pooling, a dense layer; one objective.
- ``cells``: digits as 8x8 images in the shipped ``search_spaces/cells_small.yaml`` (cells
  drawn edge by edge, a reduction cell), searched by regularized evolution; one objective.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPACES = {
    "mlp": """
        name: mlp-skips
        input: flat
        skip: residual
        shared:
          activation: {choices: [relu, gelu, tanh]}
        layers:
          - type: dense
            repeat: {low: 1, high: 2}
            features: {choices: [16, 32]}
            norm: {choices: [none, batch, layer]}
            dropout: {low: 0.0, high: 0.3}
        optimizer:
          learning_rate: {low: 3.0e-3, high: 3.0e-2, log: true}
          batch_size: 32
    """,
    "cnn": """
        name: cnn-dense-skips
        input: image
        skip: dense
        layers:
          - type: conv
            repeat: {low: 1, high: 2}
            features: {choices: [4, 8]}
            norm: {choices: [none, batch]}
            activation: {choices: [relu, silu]}
          - type: pool
            kind: {choices: [max, avg]}
          - type: dense
            repeat: {low: 0, high: 1}
            features: 16
            dropout: 0.1
        optimizer:
          learning_rate: {low: 3.0e-3, high: 2.0e-2, log: true}
          batch_size: 64
    """,
    "rnn": """
        name: rnn-residual
        input: sequence
        skip: residual
        shared:
          cell: {choices: [gru, lstm]}
        layers:
          - type: recurrent
            repeat: {low: 1, high: 2}
            features: {choices: [8, 16]}
            bidirectional: {choices: [false, true]}
          - type: global_pool
            kind: avg
          - type: dense
            features: 16
            activation: tanh
            dropout: 0.1
        optimizer:
          learning_rate: {low: 5.0e-3, high: 2.0e-2, log: true}
          batch_size: 64
    """,
    "cells": (ROOT / "search_spaces" / "cells_small.yaml").read_text(),
}
EXPERIMENTS = {
    "mlp": """
        study: mlp
        space: space.yaml
        dataset: synthetic
        training: {epochs: 3}
        objectives: {val_accuracy: maximize}
        constraints: {max_params: 1400}
        sampler: random
        trials: 5
        artifacts: {keep_weights: all}
    """,
    "cnn": """
        study: cnn
        space: space.yaml
        dataset: digits
        training: {epochs: 2}
        objectives: {val_accuracy: maximize, n_params: minimize}
        sampler: random
        trials: 5
    """,
    "rnn": """
        study: rnn
        space: space.yaml
        dataset: digits
        training: {epochs: 2}
        objectives: {val_accuracy: maximize}
        sampler: random
        trials: 3
    """,
    "cells": """
        study: cells
        space: space.yaml
        dataset: digits
        training: {epochs: 3}
        objectives: {val_accuracy: maximize}
        sampler: {name: evolution, population: 2}
        trials: 4
        artifacts: {keep_weights: all}
    """,
}


@dataclass(frozen=True)
class Searched:
    """A finished study: its store URL, name, experiment file and the search summary."""

    storage: str
    study: str
    experiment: Path
    summary: object


_done: dict[str, Searched] = {}


def searched(name: str, factory: pytest.TempPathFactory) -> Searched:
    """The study ``name`` (a key of :data:`SPACES`), searched on first use in this session."""
    if name not in _done:
        from nas.search import load_experiment, run_search

        folder = factory.mktemp(f"study-{name}")
        (folder / "space.yaml").write_text(textwrap.dedent(SPACES[name]))
        storage = f"sqlite:///{folder / 'store.db'}"
        path = folder / "exp.yaml"
        path.write_text(textwrap.dedent(EXPERIMENTS[name]) + f"storage: {storage}\nseed: 0\n")
        summary = run_search(load_experiment(path))
        _done[name] = Searched(storage, name, path, summary)
    return _done[name]
