"""The comparisons of a side-by-side optimizer run, kept per quantity at its worst step.

Step s (from 0) is held to ``trajectory_rtol(dtype, 1, s + 1)`` (tolerance.py: an optimizer update is
elementwise, and rounding differences carry from step to step), plus, where given, an allowance measured on
torch itself at that step (``optimizers.py``: its differentiable path against its for-loop one). A value's
scale is the largest |b| it has had so far, as tolerance.py prescribes for trajectories. Values that are
not numbers (a bool option, a string) must be equal; a value one engine lacks fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..arrays import to_numpy
from ..report import Comparison, ParityResult, compare_arrays
from ..tolerance import relative_error, trajectory_rtol

#: A value one engine lacks (a state entry, a group option).
MISSING = object()


def numeric(value: Any) -> np.ndarray | None:
    """A number, array, tensor or tuple of them as a float64 array; None for anything else (a bool, a str)."""
    if isinstance(value, bool | str) or value is None or value is MISSING:
        return None
    if isinstance(value, tuple):
        parts = [p for p in (numeric(v) for v in value) if p is not None]
        return None if len(parts) < len(value) else np.array([float(p) for p in parts])
    array = np.asarray(to_numpy(value))
    return array.astype(np.float64) if np.issubdtype(array.dtype, np.number) else None


class Trajectory:
    """The worst step of every quantity (its error relative to its tolerance there); scratch's exceptions."""

    def __init__(self, dtype: np.dtype, steps: int) -> None:
        self.dtype, self.steps = dtype, steps
        self.worst: dict[str, tuple[float, Comparison, Any, Any]] = {}
        self.scale: dict[str, float] = {}
        self.failures: list[Comparison] = []

    def attempt(self, what: str, fn: Callable[[], Any], passthrough: type[Exception]) -> bool:
        """Run scratch's ``fn``; an exception it raises (but ``passthrough``) is a failed comparison ``what``."""
        try:
            fn()
        except passthrough:
            raise
        except Exception as error:
            self.failures.append(Comparison(what, np.inf, np.inf, 0.0, False, f"scratch raised {error!r}"))
            return False
        return True

    def gap(self, quantity: str, ours: Any, theirs: Any) -> float:
        """The error of ``ours`` against ``theirs`` by this run's measure (its scale so far) without recording
        it: the allowance measured between two torch runs."""
        a, b = numeric(ours), numeric(theirs)
        if a is None or b is None or a.shape != b.shape:
            return 0.0
        return relative_error(a, b, self.scale.get(quantity, 0.0))[1]

    def add(self, step: int, quantity: str, ours: Any, theirs: Any, allowance: float = 0.0) -> None:
        tol = trajectory_rtol(self.dtype, 1, step + 1) + allowance
        comparison, ours, theirs = self._compare(quantity, ours, theirs, tol)
        if allowance:
            comparison.problem = f"{comparison.problem} (tol includes torch's own gap {allowance:.2e})".lstrip()
        if not comparison.ok:
            comparison.problem += f" (worst at step {step} of {self.steps})"
        ratio = comparison.max_rel_err / comparison.tol if comparison.tol else comparison.max_rel_err
        if quantity not in self.worst or not ratio <= self.worst[quantity][0]:
            self.worst[quantity] = (ratio, comparison, ours, theirs)

    def _compare(self, quantity: str, ours: Any, theirs: Any, tol: float) -> tuple[Comparison, Any, Any]:
        if ours is MISSING or theirs is MISSING:
            side = "scratch" if ours is MISSING else "torch"
            return Comparison(quantity, np.inf, np.inf, tol, False, f"{side} lacks it"), None, None
        a, b = numeric(ours), numeric(theirs)
        if a is None or b is None:
            same = bool(ours == theirs)
            return Comparison(quantity, 0.0 if same else np.inf, 0.0 if same else np.inf, tol, same,
                              "" if same else f"scratch {ours!r} vs torch {theirs!r}"), None, None
        if not isinstance(ours, tuple) and not quantity.startswith("group") and not quantity.endswith(".step"):
            a, b = np.array(to_numpy(ours)), np.array(to_numpy(theirs))  # copies, of their own dtypes
        comparison = compare_arrays(quantity, a, b, tol, scale=self.scale.get(quantity, 0.0))
        finite = np.abs(b[np.isfinite(b)]) if b.dtype.kind == "f" else np.abs(b)
        self.scale[quantity] = max(self.scale.get(quantity, 0.0), float(finite.max(initial=0.0)))
        return comparison, a, b

    def result(self) -> ParityResult:
        """The failures, then each quantity's worst comparison, with its arrays."""
        kept = self.worst.values()
        return ParityResult(self.failures + [comparison for _, comparison, _, _ in kept],
                            {c.quantity: (a, b) for _, c, a, b in kept if a is not None})
