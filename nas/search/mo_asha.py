"""``pruner: mo_asha``: asynchronous successive halving for several objectives (MO-ASHA,
Schmucker et al. 2021, "Multi-objective Asynchronous Successive Halving").

Rungs sit at ``min_epochs * eta**k`` epochs, below the training's last epoch (a trial at its
last epoch has nothing left to save). When a trial reaches a rung, its point there is
recorded on it: each epoch objective's value at that epoch, and each objective known before
training (``n_params``, ``flops``). It is then ranked among every trial that recorded a point
at that epoch: complete, pruned or running ones (a failed trial's candidate was broken or is
queued again, so it does not compete). The ranking is NSGA-II's: non-dominated sorting into
fronts, and within a front by crowding distance, larger first (sizes are measured on a log
scale, so that a front spanning orders of magnitude of parameters is spread evenly). The trial
goes on if it ranks among the first ``n // eta`` of the ``n`` points (ties at the cut go on);
while fewer than ``eta`` trials have reached the rung, it goes on if no other point there
dominates it (Optuna's successive halving keeps the best one likewise, as it cannot pause a
trial and promote it later). With one objective it decides as Optuna's successive halving
(``min_resource`` ``min_epochs``, ``reduction_factor`` ``eta``), but for the two points
above: no rung at the last epoch, and no failed trial among the competitors.

Where the values come from: Optuna's ``Trial.report`` takes one value and is refused in
multi-objective studies, so the driver writes a trial's epoch values with
:meth:`MOASHAPruner.record_epoch` and asks :meth:`MOASHAPruner.prune` at the rungs. The first
epoch objective's value is the trial's intermediate value at that step (every epoch, as
``report`` would write it); further epoch objectives' values at a rung are the system
attribute ``mo_asha:values_at_{epoch}``. The sizes are the user attributes ``n_params`` and
``flops``, written before training starts. A trial's point at rung ``e`` is the system
attribute ``mo_asha:rung_{e}``. All of it lives in the store, so resumed runs and several
drivers rank against the same history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import optuna
from optuna.pruners import BasePruner
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from nas.config import MO_ASHA_DEFAULTS
from nas.metrics import BEFORE_TRAINING, EPOCH_OBJECTIVES
from nas.store import storage_of, trial_id

COMPETING = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
RUNG_ATTR = "mo_asha:rung_{epoch}"
VALUES_ATTR = "mo_asha:values_at_{epoch}"


class MOASHAPruner(BasePruner):
    """MO-ASHA over ``objectives`` (``(metric, direction)`` pairs, in the study's order);
    see the module docstring.

    Every metric is an epoch objective (:data:`nas.metrics.EPOCH_OBJECTIVES`) or known before
    training (:data:`nas.metrics.BEFORE_TRAINING`), and at least one is an epoch objective.
    ``epochs`` is the training's length; ``eta`` >= 2 and ``min_epochs`` >= 1 are integers.
    Raises ``ValueError`` naming the value otherwise.
    """

    def __init__(
        self,
        objectives: Sequence[tuple[str, str]],
        epochs: int,
        *,
        eta: int = MO_ASHA_DEFAULTS["eta"],
        min_epochs: int = MO_ASHA_DEFAULTS["min_epochs"],
    ) -> None:
        for name, value, low in (("eta", eta, 2), ("min_epochs", min_epochs, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        unknown = [m for m, _ in objectives if m not in EPOCH_OBJECTIVES + BEFORE_TRAINING]
        if unknown:
            raise ValueError(
                f"mo_asha ranks on epoch objectives {list(EPOCH_OBJECTIVES)} and sizes "
                f"known before training {list(BEFORE_TRAINING)}; got {unknown}"
            )
        self.objectives = tuple((m, d) for m, d in objectives)
        self.epoch_objectives = tuple(m for m, _ in objectives if m in EPOCH_OBJECTIVES)
        if not self.epoch_objectives:
            raise ValueError(f"mo_asha needs an epoch objective {list(EPOCH_OBJECTIVES)}")
        self.eta, self.min_epochs, self.epochs = eta, min_epochs, epochs
        self.rungs = rung_epochs(min_epochs, eta, epochs)

    def record_epoch(
        self, storage: BaseStorage, storage_id: int, epoch: int, metrics: Mapping[str, float]
    ) -> None:
        """Write what :meth:`prune` reads of epoch ``epoch`` (1-based) of the running trial
        whose storage id is ``storage_id``."""
        first, *others = self.epoch_objectives
        storage.set_trial_intermediate_value(storage_id, epoch, float(metrics[first]))
        if others and epoch in self.rungs:
            values = {m: float(metrics[m]) for m in others}
            storage.set_trial_system_attr(storage_id, VALUES_ATTR.format(epoch=epoch), values)

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        """Whether ``trial``, whose last intermediate step is an epoch just recorded with
        :meth:`record_epoch`, stops there. Off a rung: False. At a rung: records the trial's
        point, then ranks it (module docstring); a non-finite point is pruned."""
        epoch = trial.last_step
        if epoch is None or epoch not in self.rungs:
            return False
        point = self.point(trial, epoch)
        if not all(math.isfinite(v) for v in point):
            return True
        key = RUNG_ATTR.format(epoch=epoch)
        storage_of(study).set_trial_system_attr(trial_id(trial), key, point)
        others = [
            t.system_attrs[key]
            for t in study.get_trials(deepcopy=False, states=COMPETING)
            if t.number != trial.number and key in t.system_attrs
        ]
        losses = [self.losses(p) for p in [*others, point]]
        return not promoted(losses, len(others), self.eta)

    def losses(self, point: Sequence[float]) -> list[float]:
        """``point`` as values to minimise; sizes on a log scale (``log1p``), so that
        crowding distances spread a front that spans orders of magnitude of parameters
        evenly (a monotone map: who dominates whom is unchanged)."""
        out = []
        for (metric, direction), value in zip(self.objectives, point, strict=True):
            value = math.log1p(value) if metric in BEFORE_TRAINING else value
            out.append(-value if direction == "maximize" else value)
        return out

    def point(self, trial: FrozenTrial, epoch: int) -> list[float]:
        """``trial``'s objective values at ``epoch``, in objective order."""
        extra = trial.system_attrs.get(VALUES_ATTR.format(epoch=epoch), {})
        values = []
        for metric, _ in self.objectives:
            if metric == self.epoch_objectives[0]:
                values.append(float(trial.intermediate_values[epoch]))
            elif metric in EPOCH_OBJECTIVES:
                values.append(float(extra[metric]))
            else:
                values.append(float(trial.user_attrs[metric]))
        return values


def rung_epochs(min_epochs: int, eta: int, epochs: int) -> tuple[int, ...]:
    """The epochs at which trials of ``epochs`` epochs are ranked: ``min_epochs * eta**k``
    below ``epochs``."""
    rungs, epoch = [], min_epochs
    while epoch < epochs:
        rungs.append(epoch)
        epoch *= eta
    return tuple(rungs)


def promoted(losses: Sequence[Sequence[float]], index: int, eta: int) -> bool:
    """Whether point ``losses[index]`` (vectors to minimise) ranks among the first
    ``len(losses) // eta`` by front, then crowding distance (ties at the cut included); with
    fewer than ``eta`` points, whether it is on the first front."""
    fronts = nondominated_fronts(losses)
    if len(losses) < eta:
        return index in fronts[0]
    order = ranking(losses, fronts)
    keep = len(losses) // eta
    return order[index] <= sorted(order.values())[keep - 1]


def ranking(
    losses: Sequence[Sequence[float]], fronts: Sequence[Sequence[int]]
) -> dict[int, tuple[int, float]]:
    """Each point's rank key: ``(front, -crowding distance)``, smaller is better."""
    order = {}
    for rank, front in enumerate(fronts):
        distances = crowding_distances([losses[i] for i in front])
        order.update({i: (rank, -d) for i, d in zip(front, distances, strict=True)})
    return order


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether loss vector ``a`` is no worse than ``b`` everywhere and better somewhere."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def nondominated_fronts(losses: Sequence[Sequence[float]]) -> list[list[int]]:
    """Indices of ``losses`` (vectors to minimise) sorted into fronts: the first holds the
    points no other point dominates, each next one those only earlier fronts dominate.
    Equal points share a front."""
    dominated_by = [0] * len(losses)
    dominating: list[list[int]] = [[] for _ in losses]
    for i, a in enumerate(losses):
        for j in range(i + 1, len(losses)):
            if dominates(a, losses[j]):
                dominating[i].append(j)
                dominated_by[j] += 1
            elif dominates(losses[j], a):
                dominating[j].append(i)
                dominated_by[i] += 1
    fronts, current = [], [i for i, n in enumerate(dominated_by) if n == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in dominating[i]:
                dominated_by[j] -= 1
                if dominated_by[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def crowding_distances(front: Sequence[Sequence[float]]) -> list[float]:
    """NSGA-II's crowding distance of each point of ``front``: per objective, the gap between
    its two neighbours over the front's range, summed; the extremes of each objective get
    infinity (every point of a front of one or two)."""
    n = len(front)
    distances = [0.0] * n
    if n <= 2:
        return [math.inf] * n
    for k in range(len(front[0])):
        column = [p[k] for p in front]
        order = sorted(range(n), key=lambda i: column[i])
        span = column[order[-1]] - column[order[0]]
        distances[order[0]] = distances[order[-1]] = math.inf
        if span == 0:
            continue
        for before, at, after in zip(order, order[1:], order[2:], strict=False):
            distances[at] += (column[after] - column[before]) / span
    return distances
