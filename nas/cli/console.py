"""What the ``nas`` command shows: live progress of a search (a rich display on a terminal, one
line per trial elsewhere) and tables of trials.

Study names, failure reasons, table cells and every other string from users or the store are
data: each line goes to rich as a :class:`~rich.text.Text` made by :func:`plain`, never as a
string rich would read as markup (``[bold]``, ``[/]``) or emoji codes (``:smile:``).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from nas.model import Architecture, describe
from nas.results import format_cell
from nas.search import Reporter
from nas.store import TrialRecord
from nas.urls import public_url


def printable(text: str) -> str:
    """``text`` with control and other invisible characters (escape sequences, newlines,
    direction overrides) written as Python escapes such as ``\\x1b``, so what a store holds
    cannot move the cursor, recolour or reorder the terminal, or break a line in two."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


def plain(text: object) -> Text:
    """``str(text)`` to print as it is: no markup, no emoji codes (:func:`printable`)."""
    return Text(printable(str(text)))


def _fmt(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ConsoleReporter(Reporter):
    """Trials done/total, best so far, running trials with their epoch, elapsed and ETA."""

    def __init__(self, console: Console | None = None, live: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live_enabled = self.console.is_terminal if live is None else live
        self.live: Live | None = None
        self.running: dict[int, str] = {}
        self.best: float | None = None
        self.best_number: int | None = None

    def start(
        self, experiment: Any, counted: int, target: int | None, recovered: list[int]
    ) -> None:
        self.experiment = experiment
        self.objectives = list(experiment.objectives)
        self.target = target
        self.counted0 = self.counted = counted
        self.t0 = time.monotonic()
        self.epochs = experiment.training.epochs
        head = f"study {experiment.study} · {public_url(experiment.storage)}"
        if counted:
            head += f" · resuming with {counted} finished trials"
        if recovered:
            head += f" · re-queued interrupted trials {recovered}"
        self.console.print(plain(head))
        if self.live_enabled:
            self.live = Live(
                self._render(), console=self.console, refresh_per_second=4, transient=True
            )
            self.live.start()

    def trial_started(self, number: int, arch: Architecture) -> None:
        self.running[number] = f"#{number} {describe(arch)}"
        self._refresh()

    def epoch(self, number: int, epoch: int, metrics: dict[str, float]) -> None:
        base = self.running.get(number, f"#{number}").split(" · ")[0]
        self.running[number] = (
            f"{base} · epoch {epoch}/{self.epochs} val_acc {metrics.get('val_accuracy', 0):.3f}"
        )
        self._refresh()

    def trial_finished(self, trial: TrialRecord, counted: int) -> None:
        self.running.pop(trial.number, None)
        self.counted = counted
        if trial.state == "COMPLETE" and len(self.objectives) == 1:
            value = trial.values[0]
            better = self.best is None or (
                value > self.best if self.objectives[0][1] == "maximize" else value < self.best
            )
            if better:
                self.best, self.best_number = value, trial.number
        line = plain(self._line(trial))
        if self.live is not None:
            self.live.console.print(line)
        else:
            self.console.print(line)
        self._refresh()

    def _line(self, trial: TrialRecord) -> str:
        """The trial's one line, unescaped: print it through :func:`plain`."""
        state = trial.state.lower()
        attrs = trial.user_attrs
        if attrs.get("rejected"):
            return f"trial {trial.number} rejected: {attrs.get('fail_reason')}"
        text = f"trial {trial.number} {state}"
        if trial.values:
            text += " " + " ".join(
                f"{name}={v:.4g}"
                for (name, _), v in zip(self.objectives, trial.values, strict=True)
            )
        if state == "pruned":
            text += f" at epoch {attrs.get('epochs_run')}"
        if attrs.get("fail_reason"):
            text += f": {attrs['fail_reason']}"
        if "wall_seconds" in attrs:
            text += (
                f" ({attrs['wall_seconds']:.1f}s, compile {attrs.get('compile_seconds', 0):.1f}s)"
            )
        return text

    def _render(self) -> Group:
        elapsed = time.monotonic() - self.t0
        done_here = self.counted - self.counted0
        eta = math.inf
        if self.target and done_here:
            eta = elapsed / done_here * max(self.target - self.counted, 0)
        total = self.target if self.target is not None else "?"
        best = "-" if self.best is None else f"{self.best:.4f} (trial {self.best_number})"
        status = Text(
            f"trials {self.counted}/{total} · best {self.objectives[0][0]} {best} · "
            f"elapsed {_fmt(elapsed)} · ETA {_fmt(eta)}"
        )
        running = (Text(printable(f"  {line}"), style="dim") for line in self.running.values())
        return Group(status, *running)

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._render())

    def done(self, summary: Any) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        verdict = "interrupted" if summary.interrupted else "done"
        self.console.print(
            plain(
                f"{verdict}: {summary.new_trials} new trials, {summary.counted} counted in study "
                f"{summary.study} ({summary.elapsed:.1f}s)"
            )
        )
        if getattr(summary, "stopped", None):
            self.console.print(f"stopped before the target: {summary.stopped}", markup=False)


def trials_table(rows: list[dict[str, Any]], columns: list[str], title: str) -> Table:
    """A rich table of ranked trial rows; the title, headers and cells are printed as text
    (:func:`plain`)."""
    table = Table(title=plain(title))
    for col in columns:
        table.add_column(plain(col), justify="right" if col != "architecture" else "left")
    for row in rows:
        table.add_row(*(plain(format_cell(row.get(col))) for col in columns))
    return table


def stdout_console() -> Console:
    """Standard output; wide when it is not a terminal, so piped tables are not cut."""
    console = Console(file=sys.stdout)
    if not console.is_terminal:
        console = Console(file=sys.stdout, width=max(console.width, 160))
    return console
