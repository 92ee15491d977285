"""Trial and curve frames of a real study, both store readers, Pareto helpers, `nas trials`."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest

import nas
from nas.cli import main
from nas.model import Architecture, Conv, Dense, Pool, arch_label
from nas.results import knee_index, load_curves, load_trials, param_importances, pareto_mask, rank
from nas.urls import public_url

from ..helpers import postgres_url
from ..studies import searched


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    return searched("mlp", tmp_path_factory)


@pytest.fixture(scope="module")
def frame(mlp):
    return load_trials(mlp.storage, mlp.study)


def test_sql_and_optuna_readers_give_equal_frames(mlp, frame):
    slow = load_trials(mlp.storage, mlp.study, reader="optuna")
    pd.testing.assert_frame_equal(frame, slow)
    assert frame.attrs == slow.attrs
    # The study holds what a table must cope with: complete and rejected (failed) trials.
    assert {"COMPLETE", "FAIL"} <= set(frame["state"])


def test_sql_reader_works_on_postgresql(mlp, frame):
    """The bulk reader's SQL runs on PostgreSQL too: the study copied there reads back as the
    same frame, by either reader."""
    import uuid

    from nas.store import open_storage

    url = postgres_url()
    name = f"copy-{uuid.uuid4().hex[:8]}"
    optuna.copy_study(
        from_study_name=mlp.study,
        from_storage=mlp.storage,
        to_storage=open_storage(url),
        to_study_name=name,
    )
    try:
        fast = load_trials(url, name)
        slow = load_trials(url, name, reader="optuna")
        pd.testing.assert_frame_equal(fast, slow)
        pd.testing.assert_frame_equal(fast, frame)
    finally:
        optuna.delete_study(study_name=name, storage=open_storage(url))


def test_trials_frame_has_a_row_per_trial_with_readable_columns(mlp, frame):
    study = optuna.load_study(study_name=mlp.study, storage=mlp.storage)
    assert list(frame["number"]) == [t.number for t in study.trials]
    assert frame.attrs["objectives"] == [["val_accuracy", "maximize"]]
    assert frame.attrs["dataset"]["input_shape"] == [16]
    for t in study.trials:
        row = frame.set_index("number").loc[t.number]
        assert row["state"] == t.state.name
        for name, value in t.params.items():
            assert row[f"params_{name}"] == value
        arch = Architecture.from_json(t.user_attrs["architecture"])
        assert (
            row["arch"] == arch_label(arch) == "-".join(f"dense{x.features}" for x in arch.layers)
        )
        assert row["depth"] == len(arch.layers)
        assert row["skip"] == "residual"
        for k, layer in enumerate(arch.layers):
            assert row[f"params_layers.0.{k}.features"] == layer.features
            assert row[f"params_layers.0.{k}.norm"] == layer.norm
            assert row["params_activation"] == layer.activation
        assert row["duration"] == t.datetime_complete - t.datetime_start
        assert row["n_params"] == t.user_attrs["n_params"]
        assert row["flops"] == t.user_attrs["flops"]
        if t.state.name == "COMPLETE":
            assert row["objective_val_accuracy"] == t.values[0] == row["val_accuracy"]
            for key in ("compile_seconds", "train_seconds", "eval_seconds", "node", "device"):
                assert row[key] == t.user_attrs[key]
        else:
            assert row["fail_reason"].startswith("constraint: n_params")
            assert np.isnan(row["objective_val_accuracy"])
    # A second layer's width is missing for one-layer trials and stays an integer column.
    assert str(frame["params_layers.0.1.features"].dtype) == "Int64"
    assert str(frame["duration"].dtype).startswith("timedelta64")
    assert "curves" not in frame and "traceback" not in frame


@pytest.fixture(scope="module")
def cnn_frame(tmp_path_factory):
    cnn = searched("cnn", tmp_path_factory)
    return load_trials(cnn.storage, cnn.study)


def test_columns_mean_one_thing_in_every_trial(cnn_frame):
    """In the cnn space the second layer is a convolution in some trials and the pooling
    layer in others: no column is named by position, and each parameter column holds one
    template's field."""
    frame = cnn_frame
    assert not [c for c in frame.columns if re.fullmatch(r"layer\d+_.*", c)]
    kinds = set()
    for _, row in frame.iterrows():
        arch = Architecture.from_json(row["architecture"])
        assert row["arch"] == arch_label(arch)
        convs = [x for x in arch.layers if isinstance(x, Conv)]
        pools = [x for x in arch.layers if isinstance(x, Pool)]
        denses = [x for x in arch.layers if isinstance(x, Dense)]
        kinds.add(type(arch.layers[1]).__name__)
        assert row["params_layers.0.repeat"] == len(convs)
        for k in range(2):
            width = row.get(f"params_layers.0.{k}.features")
            assert (width == convs[k].features) if k < len(convs) else pd.isna(width)
        assert row["params_layers.1.0.kind"] == pools[0].kind
        assert row["params_layers.2.repeat"] == len(denses)
        labels = [f"conv{x.features}" for x in convs] + [f"{pools[0].kind}pool2"]
        assert row["arch"] == "-".join(labels + ["dense16"] * len(denses))
    assert kinds == {"Conv", "Pool"}, "the study should hold both kinds at position 1"
    # The dense template's width is fixed in the space: not drawn, so no column, but in arch.
    assert "params_layers.2.0.features" not in frame


def test_every_column_is_documented(frame, cnn_frame, tmp_path_factory):
    rnn = searched("rnn", tmp_path_factory)
    doc = " ".join(load_trials.__doc__.split())
    for table in (frame, cnn_frame, load_trials(rnn.storage, rnn.study)):
        for column in table.columns:
            group = column.split("_", 1)[0]
            named = f"``{group}_<" if group in ("objective", "params") else f"``{column}``"
            assert named in doc, column


def test_best_trial_is_on_the_front_and_has_test_metrics(mlp, frame):
    best = mlp.summary.best[0]
    row = frame.set_index("number").loc[best.number]
    assert row["pareto"]
    assert row["test_accuracy"] == mlp.summary.test[best.number]["test_accuracy"]
    assert frame.loc[frame["number"] != best.number, "test_accuracy"].isna().all()
    assert rank(frame)["number"].iloc[0] == best.number


def test_learning_curves_in_long_format(mlp, frame):
    curves = load_curves(mlp.storage, mlp.study)
    pd.testing.assert_frame_equal(curves, load_curves(mlp.storage, mlp.study, reader="optuna"))
    assert list(curves.columns) == ["number", "epoch", "metric", "value"]
    assert set(curves["metric"]) == {"train_loss", "val_loss", "val_accuracy"}
    done = frame[frame["state"] == "COMPLETE"]
    assert set(curves["number"]) == set(done["number"])
    for _, row in done.iterrows():
        trial = curves[curves["number"] == row["number"]]
        assert sorted(set(trial["epoch"])) == list(range(1, row["epochs_run"] + 1))
        last = trial[(trial["epoch"] == row["epochs_run"]) & (trial["metric"] == "val_accuracy")]
        assert last["value"].item() == pytest.approx(row["val_accuracy"])


def test_journal_storage_is_read_through_optuna(mlp, frame, tmp_path):
    journal = str(tmp_path / "copy.jsonl")
    optuna.copy_study(
        from_study_name=mlp.study,
        from_storage=mlp.storage,
        to_storage=nas.store.open_storage(journal),
    )
    copied = load_trials(journal, mlp.study)
    times = ["datetime_start", "datetime_complete", "duration"]
    pd.testing.assert_frame_equal(copied.drop(columns=times), frame.drop(columns=times))
    with pytest.raises(ValueError, match="needs an RDB storage"):
        load_trials(journal, mlp.study, reader="sql")


def test_unknown_study_names_the_studies_there(mlp):
    with pytest.raises(KeyError, match="studies there: \\['mlp'\\]"):
        nas.load_trials(mlp.storage, "nope")


def test_param_importances_sum_to_one_or_are_left_out(mlp):
    importances = param_importances(mlp.storage, mlp.study, min_trials=2)
    assert importances and sum(importances.values()) == pytest.approx(1.0)
    assert all(
        name in ("activation", "optimizer.learning_rate") or "layers" in name
        for name in importances
    )
    assert param_importances(mlp.storage, mlp.study, min_trials=1000) == {}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_trials_command_writes_every_trial_ranked(mlp, frame, fmt, tmp_path, capsys):
    path = tmp_path / f"trials.{fmt}"
    argv = ["trials", mlp.study, "--storage", mlp.storage, "--format", fmt, "--output", str(path)]
    assert main(argv) == 0
    read = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json}[fmt]
    written = read(path)
    ranked = rank(frame)
    assert list(written["number"]) == list(ranked["number"])
    assert list(written.columns) == list(ranked.columns)
    best = written.iloc[0]
    assert best["val_accuracy"] == pytest.approx(ranked["val_accuracy"].iloc[0])
    assert json.loads(best["architecture"]) == json.loads(ranked["architecture"].iloc[0])


def test_trials_command_prints_the_ranked_table(mlp, capsys):
    assert main(["trials", mlp.study, "--storage", mlp.storage]) == 0
    out = capsys.readouterr().out
    assert "COMPLETE" in out and "FAIL" in out


@pytest.mark.parametrize(
    ("values", "directions", "front"),
    [
        ([[1, 5], [2, 4], [3, 3], [2, 5], [3, 4]], ["minimize", "minimize"], [0, 1, 2]),
        ([[0.9, 100], [0.8, 50], [0.95, 500], [0.85, 200]], ["maximize", "minimize"], [0, 1, 2]),
        ([[1.0], [3.0], [3.0]], ["maximize"], [1, 2]),
        ([[1, 1], [1, 1], [np.nan, 0]], ["minimize", "minimize"], [0, 1]),
        ([[1, 2, 3], [2, 1, 3], [2, 2, 2], [3, 3, 3]], ["minimize"] * 3, [0, 1, 2]),
    ],
)
def test_pareto_mask(values, directions, front):
    mask = pareto_mask(np.array(values, dtype=float), directions)
    assert list(np.flatnonzero(mask)) == front


def test_knee_is_the_front_point_nearest_the_ideal():
    values = np.array([[0.95, 5000], [0.94, 900], [0.80, 100]])
    assert knee_index(values, ["maximize", "minimize"]) == 1
    assert knee_index(np.array([[0.5], [0.5]]), ["maximize"]) == 0
    with pytest.raises(ValueError, match="directions must be in"):
        knee_index(values, ["up", "down"])


def test_public_url_masks_passwords():
    assert public_url("postgresql://nas:secret@db/nas") == "postgresql://nas:***@db/nas"
    assert public_url("sqlite:///nas.db") == "sqlite:///nas.db"
    assert public_url("runs/nas.jsonl") == "runs/nas.jsonl"


def test_a_study_without_trials_gives_an_empty_frame(tmp_path):
    storage = f"sqlite:///{tmp_path / 'empty.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.create_study(study_name="empty", storage=storage, directions=["maximize"] * 2)
    frame = load_trials(storage, "empty")
    assert frame.empty
    assert list(frame.columns) == [
        "number",
        "state",
        "objective_value0",
        "objective_value1",
        "pareto",
    ]
    assert load_curves(storage, "empty").empty
