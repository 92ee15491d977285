"""Small experiment files for end-to-end tests (real searches on tiny data)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

SPACE = """
name: tiny-mlp
input: flat
skip: {choices: [none, residual]}
layers:
  - type: dense
    repeat: {low: 1, high: 2}
    features: {choices: [16, 32]}
optimizer:
  learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}
  batch_size: 32
"""


# Wide layers and batches of 4: each trial takes a second or more however fast compilation
# and dispatch get, for tests that must act while trials run (kill, interrupt, join).
LONG_TRIALS_SPACE = """
name: small-batches
input: flat
layers:
  - type: dense
    features: {choices: [512, 1024]}
optimizer:
  learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}
  batch_size: 4
"""


def write_experiment(folder: Path, body: str = "", space: str = SPACE, **fields: object) -> Path:
    """Write ``space.yaml`` and ``exp.yaml`` into ``folder``; ``fields`` override top-level keys."""
    (folder / "space.yaml").write_text(textwrap.dedent(space))
    values = {
        "study": "t",
        "space": "space.yaml",
        "dataset": "synthetic",
        "training": "{epochs: 3}",
        "objectives": "{val_accuracy: maximize}",
        "sampler": "random",
        "trials": 3,
        "seed": 0,
        "storage": f"sqlite:///{folder / 'store.db'}",
    }
    values.update({k: v for k, v in fields.items()})
    text = "\n".join(f"{k}: {v}" for k, v in values.items() if v is not None) + "\n"
    path = folder / "exp.yaml"
    path.write_text(text + textwrap.dedent(body))
    return path


def postgres_url() -> str:
    """The PostgreSQL store for tests (``.ci/postgres.sh`` starts one). In CI a missing server
    fails the test; elsewhere it skips."""
    url = os.environ.get("NAS_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("NAS_TEST_POSTGRES_URL is not set; run .ci/postgres.sh first")
        pytest.skip("NAS_TEST_POSTGRES_URL is not set (see .ci/postgres.sh)")
    return url


ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str,
    cwd: Path,
    timeout: float = 300,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``nas ARGS`` as a user would, in a new process in ``cwd``, with this checkout's
    package first on the path; ``env`` adds to (or overrides) the environment."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "nas.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
    )


# Store arguments for "a store that does not exist" tests: the default, an SQLite file and a
# journal file, each in a folder that does not exist (but the default's).
MISSING_STORES = [None, "sqlite:///runs/nas.db", "runs/nas.log"]


def looked_at(store: str | None, folder: Path) -> str:
    """The absolute location an error names for ``store`` (one of :data:`MISSING_STORES`),
    given relative to ``folder``."""
    return {
        None: f"sqlite:///{folder / 'nas.db'}",
        "sqlite:///runs/nas.db": f"sqlite:///{folder / 'runs' / 'nas.db'}",
        "runs/nas.log": str(folder / "runs" / "nas.log"),
    }[store]


def searched_with_weights_outside(folder: Path) -> tuple[Any, Any, Path, Path]:
    """A one-trial search keeping its weights, and a loadable copy of them outside the
    study's weights folder: ``(experiment, study, weights folder, the copy)``."""
    import shutil

    import optuna

    from nas.search import load_experiment, run_search
    from nas.store import artifacts_dir, open_storage

    exp = load_experiment(
        write_experiment(folder, trials=1, training="{epochs: 1}", artifacts="{keep_weights: all}")
    )
    run_search(exp)
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    weights = artifacts_dir(exp.storage, exp.study)
    outside = folder / "outside.msgpack"
    shutil.copy(weights / "trial_0.msgpack", outside)
    return exp, study, weights, outside
