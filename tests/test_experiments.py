"""Every shipped experiment's header quotes what the workload suite measured with this code.

The numbers live in ``experiments/benchmarks/results/workloads.json`` (``experiments``);
``python experiments/benchmarks/workloads.py --write-headers`` writes the header lines from
there, so a re-run of the suite and that command keep files and results in step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "experiments").glob("*.yaml"))
RESULTS = ROOT / "experiments" / "benchmarks" / "results" / "workloads.json"
MEASURED = re.compile(
    r"# Measured by workloads\.py \((\d+)-core CPU, cold compilation cache, pruner off\): "
    r"(\d+) s for (\d+) trials from the shell; best val_accuracy (\d\.\d{3}) "
    r"\((?:test (\d\.\d{3})|no test split)\)"
)
FIX = "run experiments/benchmarks/workloads.py, then workloads.py --write-headers"


def header(path: Path) -> list[str]:
    """The comment lines before the first line of YAML."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_header_quotes_the_committed_measurement(path):
    quoted = [line for line in header(path) if line.startswith("# Measured")]
    assert len(quoted) == 1, f"{path.name}: needs one '# Measured by workloads.py' line; {FIX}"
    match = MEASURED.fullmatch(quoted[0])
    assert match, f"{path.name}: header line not in the suite's format: {quoted[0]!r}"
    entries = json.loads(RESULTS.read_text())["experiments"]
    assert path.name in entries, f"{path.name}: no measurement in {RESULTS.name}; {FIX}"
    entry = entries[path.name]
    cores, wall, trials, val, test = match.groups()
    test = None if test is None else float(test)
    assert (int(cores), int(wall), int(trials), float(val), test) == (
        entry["cores"],
        entry["wall_seconds"],
        entry["trials"],
        entry["best_val_accuracy"],
        entry["test_accuracy"],
    ), f"{path.name}: header disagrees with {RESULTS.name}; {FIX}"
    assert int(trials) == yaml.safe_load(path.read_text())["trials"]


def test_results_measure_only_shipped_experiments():
    entries = json.loads(RESULTS.read_text())["experiments"]
    assert set(entries) <= {p.name for p in SHIPPED}
