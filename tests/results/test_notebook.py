"""experiments/analysis.ipynb runs headless, top to bottom, against a study made here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernel

from ..studies import searched

NOTEBOOK = Path(__file__).resolve().parents[2] / "experiments" / "analysis.ipynb"
KERNEL = "nas-test"


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernel spec that starts this interpreter (the project's environment), found only
    through this test's Jupyter path."""
    prefix = tmp_path / "jupyter"
    install_kernel(kernel_name=KERNEL, prefix=str(prefix))
    spec = json.loads(
        (prefix / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json").read_text()
    )
    assert spec["argv"][0] == sys.executable
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # the future default; no notice about it
    return KERNEL


# Runs in its own interpreter: starting a kernel forks, and forking a process that holds
# JAX's threads (as this test process does) can deadlock.
RUNNER = """
import sys

import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(
    notebook, kernel_name=sys.argv[2], timeout=300, resources={"metadata": {"path": sys.argv[3]}}
)
try:
    client.execute()
finally:
    nbformat.write(notebook, sys.argv[4])
"""


def test_analysis_notebook_runs_against_a_study(kernel, tmp_path_factory, tmp_path, monkeypatch):
    study = searched("mlp", tmp_path_factory)
    monkeypatch.setenv("NAS_STORAGE", study.storage)
    monkeypatch.setenv("NAS_STUDY", study.study)
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in committed.cells if cell.cell_type == "code")
    executed = tmp_path / "executed.ipynb"
    args = [str(NOTEBOOK), kernel, str(NOTEBOOK.parent), str(executed)]
    run = subprocess.run(
        [sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]

    notebook = nbformat.read(executed, as_version=4)
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    # Pareto front, history, importances, learning curves.
    assert len(images) == 4
    text = "".join(out.get("text", "") for out in outputs)
    assert f"study {study.study}:" in text
    tables = [out["data"]["text/html"] for out in outputs if "text/html" in out.get("data", {})]
    assert any("val_accuracy" in table and "n_params" in table for table in tables)
