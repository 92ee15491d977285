"""What crosses the executor boundary: a job in, an outcome out (both plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

OutcomeState = Literal["complete", "pruned", "failed"]


@dataclass(frozen=True)
class TrialJob:
    """One candidate to train. ``architecture`` is canonical JSON; ``attempt`` counts retries."""

    trial_number: int
    architecture: str
    seed: int
    attempt: int = 0


@dataclass
class TrialOutcome:
    """How a job ended. ``variables`` holds trained numpy weights (None when failed).

    ``reason`` is one line for a failed or pruned trial; ``traceback`` the full text where an
    exception caused it; ``worker_died`` marks a lost worker process (the job may be retried).
    """

    trial_number: int
    state: OutcomeState
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    device: str = ""
    node: str = ""
    variables: Any = None
    reason: str | None = None
    traceback: str | None = None
    worker_died: bool = False
