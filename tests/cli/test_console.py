"""What the live progress display shows during a real search on tiny data."""

from __future__ import annotations

import io
import re

import optuna
from rich.console import Console
from rich.text import Text

from nas.cli.console import ConsoleReporter
from nas.search import load_experiment, run_search
from nas.store import open_storage

from ..helpers import write_experiment


class Recording(ConsoleReporter):
    """A console reporter that keeps every frame of the live display as plain text."""

    def __init__(self, console: Console, live: bool) -> None:
        super().__init__(console, live=live)
        self.frames: list[str] = []

    def _refresh(self) -> None:
        capture = Console(file=io.StringIO(), width=200)
        capture.print(self._render())
        self.frames.append(capture.file.getvalue())
        super()._refresh()


STATUS = re.compile(
    r"trials (\d+)/3 · best val_accuracy (-|[\d.]+ \(trial \d+\)) · "
    r"elapsed \d+:\d\d:\d\d · ETA (\?|\d+:\d\d:\d\d)"
)


def test_display_shows_progress_best_running_trial_and_eta(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=3))
    out = io.StringIO()
    reporter = Recording(Console(file=out, width=200), live=False)
    run_search(exp, reporter=reporter)
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))

    statuses = [STATUS.match(frame) for frame in reporter.frames]
    assert all(statuses), reporter.frames[0]
    done = [int(m.group(1)) for m in statuses]
    assert done == sorted(done) and done[0] == 0 and done[-1] == 3
    # No estimate before a trial finished; one after.
    assert statuses[0].group(3) == "?" and statuses[-1].group(3) != "?"
    # The best shown at the end is the study's best.
    best = study.best_trial
    assert statuses[-1].group(2) == f"{best.value:.4f} (trial {best.number})"
    # While a trial runs, the display names it and its epoch.
    running = "\n".join(reporter.frames)
    for number in range(3):
        assert re.search(rf"#{number} dense\d+.* · epoch [123]/3 val_acc 0\.\d{{3}}", running)
    # Every finished trial gets a line, and the summary closes the output.
    text = out.getvalue()
    for number in range(3):
        assert re.search(rf"trial {number} complete val_accuracy=0\.\d+", text)
    assert text.rstrip().splitlines()[-1].startswith("done: 3 new trials, 3 counted")


def test_live_display_on_a_terminal_ends_cleanly(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=2))
    out = io.StringIO()
    reporter = Recording(Console(file=out, width=200, force_terminal=True), live=True)
    run_search(exp, reporter=reporter)
    assert reporter.live is None  # stopped
    text = Text.from_ansi(out.getvalue()).plain
    assert "trial 0 complete" in text and "trial 1 complete" in text
    assert "done: 2 new trials, 2 counted" in text
    assert any(frame.startswith("trials 2/2") for frame in reporter.frames)
