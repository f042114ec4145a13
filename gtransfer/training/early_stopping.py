"""Early stopping of K models trained together (K = 1 for the one-model loop).

One tracker serves both training loops (:func:`gtransfer.training.finetune.finetune`, one model, and
:func:`gtransfer.training.packed.train_pack`, K members). Per member it keeps the best validation metric,
the epoch it was reached in, the epochs without improvement, the per-epoch history and, for a member
that diverged, the reason it left. A member improves when its metric is strictly better than its best so
far (higher for ROC-AUC and accuracy, lower for RMSE and MAE); it stops once ``patience`` epochs in a
row brought no improvement, or at once when it diverged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Best-validation tracking and patience for K members.

    Args:
        patience: per member, the epochs without a validation improvement after which it stops (each >= 1).
        higher_is_better: whether a larger validation metric is better.

    Attributes:
        best: per member, the best validation metric so far (``-inf``/``inf`` before the first epoch).
        best_epoch: per member, the epoch of ``best`` (0 before the first improvement).
        epochs_run: per member, the last epoch it was evaluated in.
        history: per member, one ``{"epoch", "train_loss", "valid_metric"}`` dict per epoch it completed.
        failures: per member, the one-line reason it diverged, or None.

    Examples:
        >>> tracker = EarlyStopping([1, 2], higher_is_better=True)
        >>> tracker.record(1, [0, 1], [0.7, 0.6], [0.50, 0.50])
        ([0, 1], [])
        >>> tracker.record(2, [0, 1], [0.6, 0.5], [0.50, 0.60])  # a tie is no improvement
        ([1], [0])
        >>> tracker.best, tracker.best_epoch
        ([0.5, 0.6], [1, 2])
    """

    def __init__(self, patience: Sequence[int], *, higher_is_better: bool) -> None:
        if not patience or any(not isinstance(p, int) or p < 1 for p in patience):
            raise ValueError(f"EarlyStopping: patience must be one int >= 1 per member, got {list(patience)!r}")
        self.patience = list(patience)
        self.higher_is_better = bool(higher_is_better)
        k = len(self.patience)
        self.best = [-math.inf if higher_is_better else math.inf] * k
        self.best_epoch = [0] * k
        self.stale = [0] * k
        self.epochs_run = [0] * k
        self.history: list[list[dict[str, float]]] = [[] for _ in range(k)]
        self.failures: list[str | None] = [None] * k

    def improves(self, member: int, metric: float) -> bool:
        """Whether ``metric`` is strictly better than ``member``'s best so far."""
        return metric > self.best[member] if self.higher_is_better else metric < self.best[member]

    def record(self, epoch: int, members: Sequence[int], train_losses: Sequence[float], valid_metrics: Sequence[float],
               *, diverged: Mapping[int, str] | None = None) -> tuple[list[int], list[int]]:
        """Record one epoch of the members still training.

        Args:
            epoch: the epoch (from 1).
            members: the member index of each row (a pack's rows are the members still in it).
            train_losses, valid_metrics: per row, the mean training loss and the validation metric.
            diverged: row -> the one-line reason the row's member diverged; such a member is recorded as
                failed and stops (its metric is not compared).

        Returns:
            ``(improved, stopping)``: the rows whose member reached a new best (keep their weights) and the
            rows whose member stops after this epoch (patience spent, or diverged), each in row order.
        """
        diverged = diverged or {}
        improved, stopping = [], []
        for row, member in enumerate(members):
            metric = float(valid_metrics[row])
            entry = {"epoch": epoch, "train_loss": float(train_losses[row]), "valid_metric": metric}
            self.history[member].append(entry)
            self.epochs_run[member] = epoch
            if row in diverged:
                self.failures[member] = diverged[row]
                stopping.append(row)
                continue
            if self.improves(member, metric):
                self.best[member], self.best_epoch[member], self.stale[member] = metric, epoch, 0
                improved.append(row)
            else:
                self.stale[member] += 1
            if self.stale[member] >= self.patience[member]:
                stopping.append(row)
        return improved, stopping

    def best_so_far(self) -> float:
        """The best validation metric of any member that has not failed (for progress bars)."""
        values = [b for b, failure in zip(self.best, self.failures) if failure is None]
        if not values:
            return math.nan
        return max(values) if self.higher_is_better else min(values)
