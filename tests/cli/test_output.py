"""What the ``nas`` command prints fits where it is printed: tables and progress at 80 and
200 columns and on a pipe, counts as integers, the search's header and closing lines
(real searches on tiny data, real stores)."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from nas.cli.console import ConsoleReporter
from nas.cli.tables import print_trials
from nas.metrics import shown_value
from nas.results import load_trials, trials_table, write_table
from nas.search import load_experiment, run_search, sampler_warnings
from nas.store import TrialRecord

from ..helpers import run_cli, write_experiment
from ..studies import searched

LONG_REASON = "the worker ran out of memory while compiling " * 4


def terminal(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)


def pipe() -> Console:
    return Console(file=io.StringIO())


def printed(console: Console) -> str:
    return Text.from_ansi(console.file.getvalue()).plain


def headers(text: str) -> list[str]:
    """The column headers of a printed table (its one line between ┃ bars)."""
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def data_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("│")]


@pytest.fixture(scope="module", params=["mlp", "cnn"])
def study(request, tmp_path_factory):
    """A study with failed trials (mlp) and one with two objectives (cnn)."""
    return searched(request.param, tmp_path_factory)


@pytest.mark.parametrize("width", [60, 80])
def test_a_narrow_terminal_table_fits_and_cuts_no_cell(study, width):
    frame = load_trials(study.storage, study.study)
    table = trials_table(frame, f"trials of {study.study}", top=20)
    console = terminal(width)
    print_trials(table, console)
    text = printed(console)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    shown = headers(text)
    assert shown[:2] == ["#", "trial"] and "val acc" in shown and "params" in shown
    assert "architecture" in shown
    # Every number of every shown column is there whole (only free text may wrap).
    numeric = [c for c in table.columns if not c.text and c.header in shown]
    flat = " ".join(text.split())
    for row in table.rows:
        for column in numeric:
            assert row[column.key] in flat
        assert all(word in flat for word in row["architecture"].split())


def test_a_wide_terminal_shows_more_columns_than_a_narrow_one(study):
    frame = load_trials(study.storage, study.study)
    table = trials_table(frame, "t", top=20)
    narrow, wide = terminal(80), terminal(200)
    print_trials(table, narrow)
    print_trials(table, wide)
    few, many = headers(printed(narrow)), headers(printed(wide))
    assert set(few) < set(many)
    assert max(len(line) for line in printed(wide).splitlines()) <= 200
    # The widest layout keeps one line per trial.
    assert len(data_lines(printed(wide))) == len(table.rows)


def test_a_piped_table_is_one_line_per_trial_with_every_default_column(study):
    frame = load_trials(study.storage, study.study)
    table = trials_table(frame, "t", top=0)
    console = pipe()
    print_trials(table, console)
    text = printed(console)
    assert "…" not in text and "\x1b" not in text
    lines = data_lines(text)
    assert len(lines) == len(frame)
    assert headers(text) == [c.header for c in table.columns]
    for line, row in zip(lines, table.rows, strict=True):
        assert all(row[c.key] in line for c in table.columns)


def test_wide_adds_the_remaining_columns(study):
    frame = load_trials(study.storage, study.study)
    default = trials_table(frame, "t")
    wide = trials_table(frame, "t", wide=True)
    console = terminal(80)
    print_trials(wide, console, wide=True)
    shown = headers(printed(console))
    assert {"depth", "skip", "batch", "val loss"} <= set(shown)
    assert set(c.header for c in default.columns) < set(shown)


def test_counts_are_integers_in_frames_tables_and_files(tmp_path_factory, tmp_path):
    cnn = searched("cnn", tmp_path_factory)
    frame = load_trials(cnn.storage, cnn.study)
    assert str(frame["objective_n_params"].dtype) == "Int64"
    done = frame[frame["state"] == "COMPLETE"]
    assert (done["objective_n_params"] == done["n_params"]).all()
    wanted = sorted(int(n) for n in done["n_params"])
    with write_table(cnn.storage, cnn.study, "csv", tmp_path / "t.csv").open() as file:
        cells = [row["objective_n_params"] for row in csv.DictReader(file)]
    assert sorted(int(c) for c in cells if c) == wanted
    assert all(re.fullmatch(r"\d*", c) for c in cells)  # 1732, never 1732.0 or 1.7e+03
    text = write_table(cnn.storage, cnn.study, "json", tmp_path / "t.json").read_text()
    values = [row["objective_n_params"] for row in json.loads(text)]
    assert sorted(v for v in values if v is not None) == wanted
    assert all(v is None or type(v) is int for v in values)
    table = trials_table(frame, "t")
    params = [row["objective_n_params"] for row in table.rows if row["rank"]]
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", p) for p in params)
    assert shown_value("n_params", 14990.0) == "14990"
    assert shown_value("val_accuracy", 0.93333) == "0.9333"


class Frames(ConsoleReporter):
    """A reporter that keeps each frame of its live display as its console renders it."""

    def __init__(self, console: Console) -> None:
        super().__init__(console, live=False)
        self.frames: list[str] = []

    def _refresh(self) -> None:
        capture = Console(file=io.StringIO(), width=self.console.width, color_system=None)
        capture.print(self._render())
        self.frames.append(capture.file.getvalue())


@pytest.mark.parametrize("width", [60, 80])
def test_progress_lines_fit_a_narrow_terminal(tmp_path, width):
    exp = write_experiment(
        tmp_path,
        trials=3,
        objectives="{val_accuracy: maximize, n_params: minimize}",
        sampler="nsga2",
    )
    console = terminal(width)
    reporter = Frames(console)
    run_search(load_experiment(exp), reporter=reporter)
    for frame in reporter.frames:
        lines = frame.splitlines()
        assert lines[0].startswith(("trials ", "0/", "1/", "2/", "3/")) and "ETA" in lines[0]
        assert all(len(line) <= width for line in lines)
    text = printed(console)
    for number in range(3):
        line = next(x for x in text.splitlines() if x.startswith(f"trial {number} complete"))
        assert len(line) <= width
        assert re.search(r"n_params=\d+( |$)", line)  # a count, never 1.2e+03


def test_piped_progress_is_one_unwrapped_line_per_trial(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=3))
    console = Console(file=io.StringIO(), width=80)
    reporter = ConsoleReporter(console)
    assert reporter.live_enabled is False
    reporter.start(exp, 0, 3, [])
    record = TrialRecord(0, "FAIL", None, {}, {"fail_reason": LONG_REASON}, None, None)
    reporter.trial_finished(record, 0)
    done = TrialRecord(1, "COMPLETE", (0.5,), {}, {"wall_seconds": 1.0}, None, None)
    reporter.trial_finished(done, 1)
    lines = console.file.getvalue().splitlines()
    assert f"trial 0 fail: {LONG_REASON}" in lines
    assert "trial 1 complete val_accuracy=0.5 (1.0s, compile 0.0s)" in lines


@pytest.mark.parametrize(
    ("sampler", "trials", "expected"),
    [
        ("nsga2", 20, "every trial is drawn at random"),
        ("{name: nsga2, population_size: 8}", 12, "less than one generation"),
        ("{name: nsga2, population_size: 4}", 20, None),
        ("tpe", 10, "random search"),
        ("{name: tpe, n_startup_trials: 3}", 10, None),
        ("gp", 6, "random search"),
        ("random", 3, None),
    ],
)
def test_the_header_says_when_a_sampler_is_random_search(sampler, trials, expected, tmp_path):
    exp = load_experiment(write_experiment(tmp_path, sampler=sampler, trials=trials))
    console = pipe()
    ConsoleReporter(console).start(exp, 0, trials, [])
    lines = printed(console).splitlines()
    name = exp.sampler[0]
    assert lines[1].startswith(f"sampler {name}") and f"{trials} trials" in lines[1]
    warnings = [line for line in lines if line.startswith("warning: ")]
    if expected is None:
        assert warnings == [] and sampler_warnings(exp) == []
    else:
        assert len(warnings) == 1 and expected in warnings[0]
        # It says what to do: an option value, or a trial count.
        assert re.search(r"sampler: \{name: \w+, \w+: \d+\}", warnings[0])


def test_the_default_population_is_named_in_the_header(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, sampler="nsga2", trials=200))
    console = pipe()
    ConsoleReporter(console).start(exp, 0, 200, [])
    lines = printed(console).splitlines()
    assert "sampler nsga2 (population_size 50, default)" in lines[1]
    assert not any(line.startswith("warning: ") for line in lines)


def test_a_search_ends_with_where_the_results_are_and_commands_that_work(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    exp = write_experiment(folder, trials=2, storage="sqlite:///store.db")
    out = run_cli("search", str(exp), cwd=folder)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    store = f"sqlite:///{folder / 'store.db'}"
    assert f"results: {store} (study t, 2 trials, 2 complete)" in lines
    weights = next(line for line in lines if line.startswith("weights: "))
    assert Path(weights.removeprefix("weights: ")).is_absolute()
    assert Path(weights.removeprefix("weights: ")).is_dir()
    best = next(line for line in lines if line.startswith("best: trial "))
    assert "val acc 0." in best and "params " in best
    commands = [line.strip() for line in lines if line.startswith("  nas ")]
    assert [shlex.split(c)[1] for c in commands] == ["trials", "report", "export"]
    # Pasted as they are, from another folder, each works on the same study.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in commands:
        run = run_cli(*shlex.split(command)[1:], cwd=elsewhere)
        assert run.returncode == 0, (command, run.stderr)
    assert (elsewhere / "report" / "index.html").exists()
    assert (elsewhere / "model.py").exists()
