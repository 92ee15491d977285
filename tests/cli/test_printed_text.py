"""Names and reasons from users and from the store are printed as text: never read as rich
markup or emoji codes, and control characters shown, not sent to the terminal (real
searches through the ``nas`` command)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import optuna
from optuna.trial import TrialState, create_trial
from rich.console import Console

from nas.cli.console import ConsoleReporter
from nas.store import TrialRecord, open_storage

from ..helpers import write_experiment

NAME = "<x>[bold]x[/bold][/]:smile:"
REASON = "[bold]boom[/bold] [/] :fire: \x1b[31mred"
SHOWN_REASON = "[bold]boom[/bold] [/] :fire: \\x1b[31mred"
# No spaces, so the table does not wrap it.
CELL = "[b]boom[/b][/]:fire:\x1b[2J"
SHOWN_CELL = "[b]boom[/b][/]:fire:\\x1b[2J"


def nas(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nas.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_search_and_trials_print_a_markup_name_and_reason_as_text(tmp_path):
    exp = write_experiment(tmp_path, trials=1, training="{epochs: 1}", storage="sqlite:///s.db")
    out = nas("search", str(exp), "--study", NAME, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"study {NAME} · sqlite:///s.db" in out.stderr
    assert f"counted in study {NAME} (" in out.stderr
    assert f"top trials of {NAME}" in out.stdout

    # A failure reason as the store holds it, shown by `nas trials`.
    study = optuna.load_study(study_name=NAME, storage=open_storage(f"sqlite:///{tmp_path}/s.db"))
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs={"fail_reason": CELL}))
    table = nas("trials", NAME, "--storage", "sqlite:///s.db", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert f"trials of {NAME}, best first" in table.stdout
    assert SHOWN_CELL in table.stdout and "\x1b" not in table.stdout


def test_finished_trial_lines_print_reasons_as_text(tmp_path):
    exp = write_experiment(tmp_path, study=f'"{NAME}"')
    from nas.search import load_experiment

    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, width=200), live=False)
    reporter.start(load_experiment(exp), 0, 3, [])
    for number, attrs in enumerate(
        [{"fail_reason": REASON}, {"rejected": True, "fail_reason": REASON}]
    ):
        record = TrialRecord(number, "FAIL", None, {}, attrs, None, None)
        reporter.trial_finished(record, 0)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"study {NAME} · ")
    assert lines[1] == f"trial 0 fail: {SHOWN_REASON}"
    assert lines[2] == f"trial 1 rejected: {SHOWN_REASON}"


def test_validate_prints_the_file_and_space_names_as_text(tmp_path):
    space = (Path(__file__).resolve().parents[2] / "search_spaces" / "mlp.yaml").read_text()
    lines = space.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    lines[at] = 'name: "[bold]s[/]:smile:"'
    (tmp_path / "[red]sp.yaml").write_text("\n".join(lines) + "\n")
    out = nas("validate", "[red]sp.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "[red]sp.yaml: valid space '[bold]s[/]:smile:'" in out.stdout
