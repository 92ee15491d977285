"""A real search of the shipped cell space (``search_spaces/cells_small.yaml``) on digits:
cells train, and the store, tables, report and ``nas validate`` handle them."""

from __future__ import annotations

import math

import pandas as pd

from nas.cli import main
from nas.model import Architecture, Cell
from nas.results import load_trials

from ..studies import searched


def test_a_cell_search_trains_and_is_stored(tmp_path_factory):
    study = searched("cells", tmp_path_factory)
    frame = load_trials(study.storage, study.study)
    done = frame[frame["state"] == "COMPLETE"]
    assert len(done) == 4
    # Digits has 10 classes: a trained network is far above chance after 3 epochs.
    assert done["val_accuracy"].max() > 0.5
    assert all(math.isfinite(v) and v > 0 for v in done["flops"])
    for text in done["architecture"]:
        arch = Architecture.from_json(text)
        cells = [layer for layer in arch.layers if isinstance(layer, Cell)]
        assert 3 <= len(cells) <= 5 and sum(c.reduction for c in cells) == 1
    assert done["arch"].str.contains(r"cell8\[", regex=True).all()
    edge_columns = [c for c in frame.columns if c.startswith("params_layers.1.0.ops.")]
    assert len(edge_columns) == 3
    assert not pd.isna(done[edge_columns]).any(axis=None)


def test_cell_report_and_validate(tmp_path_factory, tmp_path, capsys):
    study = searched("cells", tmp_path_factory)
    assert main(["report", study.study, "--storage", study.storage, "--output", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").exists()
    capsys.readouterr()
    assert main(["validate", str(study.experiment)]) == 0
    out = capsys.readouterr().out
    assert "6,289,920" in out
