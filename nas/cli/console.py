"""What the ``nas`` command shows: live progress of a search (a rich display on a terminal, one
line per trial elsewhere); tables of trials are laid out in :mod:`nas.cli.tables`.

Study names, failure reasons, table cells and every other string from users or the store are
data: each line goes to rich as a :class:`~rich.text.Text` made by :func:`plain`, never as a
string rich would read as markup (``[bold]``, ``[/]``) or emoji codes (``:smile:``).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from nas.metrics import INTEGER_METRICS, shown_value
from nas.model import Architecture, describe
from nas.results import pareto_mask
from nas.search import Reporter, describe_algorithms, sampler_warnings
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
    """Trials done/total, best so far, running trials with their epoch, elapsed and ETA.

    On a terminal every line of the live display fits its width (shorter forms where it is
    narrow; a running trial's line is cut with an ellipsis) and a finished trial's line drops
    its timings before it would wrap. Elsewhere (a pipe, a file) each finished trial is one
    line, never wrapped or cut, whatever its length.
    """

    def __init__(self, console: Console | None = None, live: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live_enabled = self.console.is_terminal if live is None else live
        self.live: Live | None = None
        self.running: dict[int, str] = {}
        self.best: float | None = None
        self.best_number: int | None = None
        self.front_values: list[list[float]] = []

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
        self._print(head)
        self._print(describe_algorithms(experiment))
        for warning in sampler_warnings(experiment):
            self._print(f"warning: {warning}")
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
        elif trial.state == "COMPLETE" and trial.values:
            self.front_values.append(list(trial.values))
        line, timing = self._line(trial)
        if timing and (not self._on_terminal() or len(line) + len(timing) < self.console.width):
            line += timing
        self._print(line)
        self._refresh()

    def _line(self, trial: TrialRecord) -> tuple[str, str]:
        """The trial's line and its timings (to append where they fit), unescaped: print
        them through :func:`plain`."""
        state = trial.state.lower()
        attrs = trial.user_attrs
        if attrs.get("rejected"):
            return f"trial {trial.number} rejected: {attrs.get('fail_reason')}", ""
        text = f"trial {trial.number} {state}"
        if trial.values:
            text += " " + " ".join(
                f"{name}={shown_value(name, v)}"
                for (name, _), v in zip(self.objectives, trial.values, strict=True)
            )
        if state == "pruned":
            text += f" at epoch {attrs.get('epochs_run')}"
        timing = ""
        if attrs.get("table"):
            timing = f" (looked up in {attrs['table']})"
        elif "wall_seconds" in attrs:
            timing = (
                f" ({attrs['wall_seconds']:.1f}s, compile {attrs.get('compile_seconds', 0):.1f}s)"
            )
        if attrs.get("fail_reason"):
            # The reason goes last: it may be long, and the timings then go first.
            text, timing = text + timing + f": {attrs['fail_reason']}", ""
        return text, timing

    def _status(self, width: int) -> str:
        """The status line in the longest of its forms that fits ``width``."""
        elapsed = time.monotonic() - self.t0
        done_here = self.counted - self.counted0
        eta = math.inf
        if self.target and done_here:
            eta = elapsed / done_here * max(self.target - self.counted, 0)
        total = self.target if self.target is not None else "?"
        name = self.objectives[0][0]
        if len(self.objectives) > 1:
            directions = [d for _, d in self.objectives]
            done = np.array(self.front_values, dtype=np.float64).reshape(-1, len(directions))
            front = int(pareto_mask(done, directions).sum())
            best = brief = f"front of {front}"
            named = f"Pareto front of {front} trial{'' if front == 1 else 's'}"
        elif self.best is None:
            best, brief, named = "best -", "-", f"best {name} -"
        else:
            value = shown_value(name, self.best) if name in INTEGER_METRICS else f"{self.best:.4f}"
            best = f"best {value} (trial {self.best_number})"
            brief = f"{value} (#{self.best_number})"
            named = f"best {name} {value} (trial {self.best_number})"
        forms = [
            f"trials {self.counted}/{total} · {named} · elapsed {_fmt(elapsed)} · ETA {_fmt(eta)}",
            f"trials {self.counted}/{total} · {best} · {_fmt(elapsed)} · ETA {_fmt(eta)}",
            f"{self.counted}/{total} · {brief} · ETA {_fmt(eta)}",
        ]
        return next((form for form in forms if len(form) <= width), forms[-1])

    def _render(self) -> Group:
        width = self.console.width
        status = Text(self._status(width), no_wrap=True, overflow="ellipsis")
        running = (
            Text(printable(f"  {line}"), style="dim", no_wrap=True, overflow="ellipsis")
            for line in self.running.values()
        )
        return Group(status, *running)

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._render())

    def _on_terminal(self) -> bool:
        return self.live is not None or self.console.is_terminal

    def _print(self, line: str) -> None:
        """Print ``line`` as text; off a terminal as one line, never wrapped or cut."""
        console = self.live.console if self.live is not None else self.console
        soft = not self._on_terminal()
        console.print(plain(line), soft_wrap=soft, crop=not soft)

    def done(self, summary: Any) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        verdict = "interrupted" if summary.interrupted else "done"
        self._print(
            f"{verdict}: {summary.new_trials} new trials, {summary.counted} counted in study "
            f"{summary.study} ({summary.elapsed:.1f}s)"
        )
        if getattr(summary, "stopped", None):
            self._print(f"stopped before the target: {summary.stopped}")


def stdout_console() -> Console:
    """Standard output; wide when it is not a terminal, so piped tables are not cut."""
    console = Console(file=sys.stdout)
    if not console.is_terminal:
        console = Console(file=sys.stdout, width=max(console.width, 160))
    return console
