"""Architectures read from outside (a store, a file) are checked field by field: a wrong one
is an ArchitectureError naming the field, and the readers (export, report) turn it into a
one-line UserError naming the study, the trial and the field."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from nas.cli import main
from nas.errors import UserError
from nas.model import Architecture, ArchitectureError, Conv, Dense, Pool, Recurrent
from nas.search import load_experiment, run_search
from tests.helpers import write_experiment

VALID = Architecture(
    layers=(
        Conv(features=4, kernel_size=3, norm="batch"),
        Pool(kind="avg", stride=None),
        Recurrent(features=2, cell="lstm", bidirectional=True),
        Dense(features=8, dropout=0.25),
    ),
    skip="residual",
    optimizer="sgd",
    learning_rate=0.01,
    weight_decay=0,
    batch_size=16,
)


def test_every_valid_architecture_reads_back_equal() -> None:
    assert Architecture.from_json(VALID.to_json()) == VALID
    assert Architecture.from_dict(VALID.to_dict()) == VALID
    # Fields other than layers take their defaults, as older stores wrote them.
    assert Architecture.from_dict({"layers": [{"type": "dense", "features": 3}]}) == Architecture(
        layers=(Dense(features=3),)
    )


def edited(path: str, value: Any) -> dict[str, Any]:
    """VALID's dict with the field at ``path`` (``a.b`` or ``layers.0.x``) set to ``value``
    (or removed where ``value`` is ``KeyError``)."""
    data = VALID.to_dict()
    *parents, last = path.split(".")
    target: Any = data
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    key: Any = int(last) if last.isdigit() else last
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"),
    [
        (
            "layers.0.features",
            "64",
            "layers[0].features",
            "expected a positive int, found str '64'",
        ),
        ("layers.0.features", 0, "layers[0].features", "expected a positive int, found int 0"),
        ("layers.0.features", 8.0, "layers[0].features", "found float 8.0"),
        ("layers.0.features", KeyError, "layers[0].features", "missing required field"),
        ("layers.0.type", "attention", "layers[0].type", "unknown layer type 'attention'"),
        ("layers.0.type", ["conv"], "layers[0].type", "unknown layer type ['conv']"),
        ("layers.0.activation", "__import__('os')", "layers[0].activation", "expected one of"),
        ("layers.1.kind", "median", "layers[1].kind", "expected one of max, avg"),
        ("layers.1.stride", -1, "layers[1].stride", "a positive int or null"),
        ("layers.1.window", None, "layers[1].window", "expected a positive int, found null"),
        ("layers.2.bidirectional", 1, "layers[2].bidirectional", "expected true or false"),
        ("layers.3.dropout", 1.0, "layers[3].dropout", "expected a number in [0, 1)"),
        ("layers.3.dropout", float("nan"), "layers[3].dropout", "found float nan"),
        ("layers.3.width", 3, "layers[3]", "unknown field(s) 'width' for layer type 'dense'"),
        ("layers.2", "gru", "layers[2]", "expected a layer (a mapping), found str 'gru'"),
        ("layers", {"0": {}}, "layers", "expected a list of layers"),
        ("layers", KeyError, "layers", "missing required field"),
        ("skip", "everything", "skip", "expected one of none, residual, dense"),
        ("optimizer", "lion", "optimizer", "expected one of adamw, adam, sgd"),
        ("learning_rate", 0, "learning_rate", "expected a finite number > 0, found int 0"),
        ("learning_rate", "1e-3", "learning_rate", "found str '1e-3'"),
        ("weight_decay", float("inf"), "weight_decay", "a finite number >= 0"),
        ("batch_size", True, "batch_size", "expected a positive int, found bool True"),
        ("seed", 3, "", "unknown field(s) 'seed'"),
    ],
)
def test_wrong_fields_are_named(path: str, value: Any, field: str, problem: str) -> None:
    data = edited(path, value)
    with pytest.raises(ArchitectureError) as info:
        Architecture.from_dict(data)
    assert (info.value.field, problem in info.value.problem) == (field, True), info.value
    # Through JSON the same (NaN and infinities are JSON extensions Python reads).
    with pytest.raises(ArchitectureError) as info:
        Architecture.from_json(json.dumps(data))
    assert info.value.field == field


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not valid JSON: Expecting value"),
        ("[" * 100_000, "not valid JSON: maximum recursion depth exceeded"),
        ('{"layers": [{"type": "dense", "features": ' + "9" * 5000 + "}]}", "not valid JSON"),
        ("[]", "expected a mapping with layers, found a list []"),
        (None, "expected JSON text, found null"),
        (3, "expected JSON text, found int 3"),
    ],
)
def test_text_that_is_no_architecture(text: Any, problem: str) -> None:
    with pytest.raises(ArchitectureError) as info:
        Architecture.from_json(text)
    assert info.value.field == ""
    assert info.value.problem.startswith(problem)
    assert isinstance(info.value, ValueError)


def test_in_trial_names_the_study_trial_and_field() -> None:
    err = ArchitectureError("layers[0].features", "expected a positive int, found str '64'")
    user = err.in_trial("demo", 3)
    assert isinstance(user, UserError)
    assert str(user) == (
        "study 'demo', trial 3: the stored architecture.layers[0].features is invalid: "
        "expected a positive int, found str '64'"
    )


# --- the readers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    """A real one-trial study that kept its weights: (storage URL, db file, architecture)."""
    folder = tmp_path_factory.mktemp("stored")
    path = write_experiment(
        folder, trials=1, training="{epochs: 1}", artifacts="{keep_weights: all}"
    )
    run_search(load_experiment(path))
    db = folder / "store.db"
    with sqlite3.connect(db) as con:
        (value,) = con.execute(
            "SELECT value_json FROM trial_user_attributes WHERE key = 'architecture'"
        ).fetchone()
    return f"sqlite:///{db}", db, json.loads(value)


def store_architecture(db: Path, value: Any) -> None:
    """Overwrite trial 0's stored architecture attribute, as a hand edit of the store would."""
    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE trial_user_attributes SET value_json = ? WHERE key = 'architecture'",
            (json.dumps(value),),
        )


@pytest.mark.parametrize(
    ("edit", "field", "problem"),
    [
        (
            lambda a: a.replace('"features":16', '"features":"16"').replace(
                '"features":32', '"features":"32"'
            ),
            "architecture.layers[0].features",
            "expected a positive int, found str",
        ),
        (lambda a: "{not json", "architecture", "not valid JSON"),
        (
            lambda a: a.replace('"type":"dense"', '"type":"os.system"', 1),
            "architecture.layers[0].type",
            "unknown layer type 'os.system'",
        ),
    ],
    ids=["string-width", "not-json", "unknown-type"],
)
@pytest.mark.parametrize("command", ["export", "report"])
def test_export_and_report_name_the_study_trial_and_field(
    study: tuple[str, Path, str], command: str, edit, field: str, problem: str, tmp_path, capsys
) -> None:
    storage, db, original = study
    store_architecture(db, edit(original))
    try:
        output = tmp_path / ("m.py" if command == "export" else "report")
        assert main([command, "t", "--storage", storage, "--output", str(output)]) == 2
    finally:
        store_architecture(db, original)
    err = capsys.readouterr().err
    assert err.startswith(f"error: study 't', trial 0: the stored {field} is invalid: ")
    assert problem in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "m.py").exists() and not (tmp_path / "report" / "index.html").exists()


def test_a_learning_rate_past_float_range_is_refused() -> None:
    # Found by tests/test_fuzz.py: an OverflowError from the finite-number check.
    with pytest.raises(ArchitectureError) as info:
        Architecture.from_json('{"layers": [], "learning_rate": 1' + "0" * 400 + "}")
    assert info.value.field == "learning_rate"
    assert info.value.problem.startswith("expected a finite number > 0, found int 1000")
