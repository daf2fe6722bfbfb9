"""A small training loop: ``fit`` runs epochs of forward, loss, backward and optimizer step over
a ``DataLoader``, records per-epoch metrics in a ``History``, and supports validation,
``EarlyStopping`` and callbacks (``on_batch_end(batch, logs)`` / ``on_epoch_end(epoch, logs)``).

Each training batch does exactly::

    optimizer.zero_grad()
    out = model(x)
    loss = criterion(out, y)
    model.backward(criterion.backward())
    optimizer.step()
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["EarlyStopping", "History", "accuracy", "evaluate", "fit"]

_METRICS = ("loss", "accuracy")


def accuracy(output: Any, target: Any) -> float:
    """Share of samples whose predicted class equals the target.

    * Several outputs per sample (``output`` of shape (N, C, ...) with C > 1): the prediction is the
      argmax over dim 1; ``target`` holds class indices of shape (N, ...), or one-hot / probability
      rows of ``output``'s shape, whose argmax over dim 1 is the class.
    * One output per sample (shape (N,) or (N, 1), e.g. a sigmoid model): the prediction is
      ``output > 0.5``, compared with ``target > 0.5``.

    Args:
        output: the model's output.
        target: the targets, as above.

    Returns:
        the accuracy in [0, 1] as a Python float (0.0 for an empty batch).
    """
    output, target = np.asarray(output), np.asarray(target)
    if output.ndim == 0 or output.shape[0] != (target.shape[0] if target.ndim else -1):
        raise ValueError(f"accuracy: output {output.shape} and target {target.shape} need the same batch size")
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        if target.size != output.size:
            raise ValueError(f"accuracy: a single-output model needs one target per sample, got output "
                             f"{output.shape} and target {target.shape}")
        correct = (output.reshape(-1) > 0.5) == (target.reshape(-1) > 0.5)
    else:
        pred = output.argmax(axis=1)
        if target.shape == output.shape:
            target = target.argmax(axis=1)
        if target.shape != pred.shape:
            raise ValueError(f"accuracy: target {target.shape} must be class indices of shape {pred.shape} "
                             f"or one-hot/probabilities of shape {output.shape}")
        correct = pred == target
    return float(correct.mean()) if correct.size else 0.0


class History:
    """What ``fit`` recorded.

    Attributes:
        history: metric name -> list of per-epoch values (``loss``, ``accuracy``, ``val_loss``,
            ``val_accuracy``, those that were computed).
        epochs_run: the number of epochs completed.
        best_epoch: the 0-based epoch with the best monitored value (early stopping's monitor,
            else ``val_loss`` when validating, else ``loss``); None before any epoch.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs_run = 0
        self.best_epoch: int | None = None

    def _append(self, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.epochs_run += 1

    def __repr__(self) -> str:
        return f"History(epochs_run={self.epochs_run}, best_epoch={self.best_epoch}, keys={list(self.history)})"


class EarlyStopping:
    """Stop ``fit`` when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when its value beats the best so far by more than ``min_delta``
    (below ``best - min_delta`` in mode "min", above ``best + min_delta`` in mode "max").
    With ``restore_best_weights`` the model's state_dict from the best epoch is loaded back
    when ``fit`` ends (whether it stopped early or ran all its epochs).

    Args:
        monitor: the metric to watch, a key of the epoch logs (e.g. "val_loss", "accuracy").
        patience: epochs without improvement before stopping.
        min_delta: the smallest change that counts as an improvement.
        mode: "min" or "max".
        restore_best_weights: load the best epoch's weights back at the end.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "min",
                 restore_best_weights: bool = True) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be non-negative, got {min_delta}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.reset()

    def reset(self) -> None:
        """Forget the previous run (``fit`` calls this at its start)."""
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, epoch: int, logs: dict[str, float], model: Any) -> bool:
        """Record epoch ``epoch``'s ``logs``; snapshot the model when it improved.

        Args:
            epoch: the 0-based epoch just finished.
            logs: its metrics.
            model: the model (its ``state_dict`` is copied on improvement).

        Returns:
            True when training should stop.
        """
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping: monitor {self.monitor!r} is not among the metrics {sorted(logs)}")
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def restore(self, model: Any) -> None:
        """Load the best epoch's weights into ``model`` (when ``restore_best_weights``)."""
        if self.restore_best_weights and self.best_state is not None:
            model.load_state_dict(self.best_state)


def _batch_metrics(metrics: Sequence[str], loss: Any, out: Any, y: Any) -> dict[str, float]:
    logs = {}
    if "loss" in metrics:
        logs["loss"] = float(loss)
    if "accuracy" in metrics:
        logs["accuracy"] = accuracy(out, y)
    return logs


class _Mean:
    """Per-key means of batch metrics, weighted by batch size."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, logs: dict[str, float], size: int) -> None:
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * size
        self.count += size

    def means(self, prefix: str = "") -> dict[str, float]:
        return {prefix + key: total / self.count for key, total in self.sums.items()} if self.count else {}


def _train_epoch(model: Any, criterion: Any, optimizer: Any, loader: Iterable[Any], metrics: Sequence[str],
                 callbacks: Sequence[Any]) -> dict[str, float]:
    model.train()
    mean = _Mean()
    previous = getattr(model, "requires_input_grad", None)  # a scratch Module's; None for other models
    if previous is not None:  # the input is data: its gradient is never used (torch skips it too)
        model.requires_input_grad_(False)
    try:
        return _train_batches(model, criterion, optimizer, loader, metrics, callbacks, mean)
    finally:
        if previous is not None:
            model.requires_input_grad_(previous)


def _train_batches(model: Any, criterion: Any, optimizer: Any, loader: Iterable[Any], metrics: Sequence[str],
                   callbacks: Sequence[Any], mean: _Mean) -> dict[str, float]:
    for batch, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        model.backward(criterion.backward())
        optimizer.step()
        logs = _batch_metrics(metrics, loss, out, y)
        mean.add(logs, len(x))
        for callback in callbacks:
            if hasattr(callback, "on_batch_end"):
                callback.on_batch_end(batch, dict(logs))
    if mean.count == 0:
        raise ValueError("fit: train_loader yielded no batches (an empty dataset, or drop_last=True with "
                         "batch_size > len(dataset))")
    return mean.means()


def evaluate(model: Any, criterion: Any, loader: Iterable[Any], metrics: Sequence[str] = _METRICS) -> dict[str, float]:
    """Mean loss and accuracy over ``loader`` in eval mode, without backward; the model's mode is
    restored afterwards.

    Args:
        model: the model.
        criterion: the loss module.
        loader: yields (x, y) batches.
        metrics: which of "loss" and "accuracy" to compute.

    Returns:
        metric name -> mean over samples (batch-size weighted).
    """
    was_training = model.training
    model.eval()
    try:
        mean = _Mean()
        for x, y in loader:
            out = model(x)
            mean.add(_batch_metrics(metrics, criterion(out, y), out, y), len(x))
    finally:
        model.train(was_training)
    if mean.count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return mean.means()


def _check_fit_args(epochs: int, metrics: Sequence[str], val_loader: Any, early_stopping: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs}")
    unknown = [m for m in metrics if m not in _METRICS]
    if unknown:
        raise ValueError(f"fit: unknown metrics {unknown}; supported are {list(_METRICS)}")
    if early_stopping is not None:
        keys = list(metrics) + ([f"val_{m}" for m in metrics] if val_loader is not None else [])
        if early_stopping.monitor not in keys:
            raise ValueError(f"fit: EarlyStopping monitors {early_stopping.monitor!r}, but the recorded metrics "
                             f"are {keys}")


def _best_epoch(history: History, early_stopping: EarlyStopping | None) -> int | None:
    if early_stopping is not None:
        return early_stopping.best_epoch
    for key in ("val_loss", "loss"):
        if history.history.get(key):
            return int(np.argmin(history.history[key]))
    return None


def fit(model: Any, criterion: Any, optimizer: Any, train_loader: Iterable[Any], *, epochs: int = 1,
        val_loader: Iterable[Any] | None = None, metrics: Sequence[str] = _METRICS,
        early_stopping: EarlyStopping | None = None, callbacks: Sequence[Any] = ()) -> History:
    """Train ``model`` for ``epochs`` epochs over ``train_loader``.

    Args:
        model: a scratch Module (called on x, ``backward`` taking the loss gradient).
        criterion: a scratch loss with mean reduction (``criterion(out, y)``, ``criterion.backward()``).
        optimizer: a scratch optimizer over the model's parameters.
        train_loader: yields (x, y) batches, e.g. a ``scratch.data.DataLoader``.
        epochs: the most epochs to run.
        val_loader: batches evaluated after each epoch in eval mode (adds ``val_*`` metrics).
        metrics: which of "loss" and "accuracy" to record; epoch values are batch means weighted
            by batch size (accuracy is measured on each batch's output before its step).
        early_stopping: stops training and restores the best weights, see ``EarlyStopping``.
        callbacks: objects with optional ``on_batch_end(batch, logs)`` and ``on_epoch_end(epoch, logs)``.

    Returns:
        the ``History`` of the run.
    """
    _check_fit_args(epochs, metrics, val_loader, early_stopping)
    history = History()
    if early_stopping is not None:
        early_stopping.reset()
    for epoch in range(int(epochs)):
        logs = _train_epoch(model, criterion, optimizer, train_loader, metrics, callbacks)
        if val_loader is not None:
            logs.update({f"val_{k}": v for k, v in evaluate(model, criterion, val_loader, metrics).items()})
        history._append(logs)
        stop = early_stopping is not None and early_stopping.update(epoch, logs, model)
        for callback in callbacks:
            if hasattr(callback, "on_epoch_end"):
                callback.on_epoch_end(epoch, dict(logs))
        if stop:
            break
    if early_stopping is not None:
        early_stopping.restore(model)
    history.best_epoch = _best_epoch(history, early_stopping)
    return history
