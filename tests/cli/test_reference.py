"""``nas fields`` and ``nas schema`` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nas.cli import main
from nas.model import LAYER_TYPES
from nas.space import layer_docs


def test_fields_lists_every_layer_type_and_field(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "nas.cli", "fields"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    for name, doc in layer_docs().items():
        assert f"{name}: " in out.stdout
        for field in doc.fields:
            assert f" {field.name} " in out.stdout
    assert "optimizer: " in out.stdout and " repeat " in out.stdout


def test_fields_of_one_type(capsys):
    assert main(["fields", "pool"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pool: ") and "window" in out and "dense:" not in out


def test_fields_of_an_unknown_type_suggests_one(capsys):
    assert main(["fields", "Dense"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'dense'?" in err and ", ".join(LAYER_TYPES) in err


def test_schema_prints_the_committed_schemas(capsys):
    import json

    root = Path(__file__).resolve().parents[2]
    for kind in ("space", "experiment"):
        assert main(["schema", kind]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed == json.loads((root / "schemas" / f"{kind}.schema.json").read_text())
