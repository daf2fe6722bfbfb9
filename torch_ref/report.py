"""The results of the harness: one ``Comparison`` per compared quantity, gathered in a ``ParityResult`` for one
component (``module_parity``, ``loss_parity``, ``optimizer_parity``, a ``parity check`` row) or in a ``Report``
for a side-by-side training run (``torch_ref.training.compare``), which adds the step, the module and the losses.

JSON: ``to_json`` and ``strict_json`` write strict JSON (RFC 8259, ``allow_nan=False``), which has no NaN or
Infinity: a non-finite float is written as ``null``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from .arrays import to_numpy
from .tolerance import relative_error


@dataclass
class Comparison:
    """How one quantity (``"output"``, ``"grad_input"``, ``"weight.grad"``, ``"state.weight.exp_avg"``, ...)
    of scratch compares with torch's: the largest absolute and relative errors (tolerance.py's measure)
    against the tolerance; ``problem`` says why it fails when the values alone do not (a shape or dtype
    mismatch, a trivial gradient, a value missing in one engine)."""

    quantity: str
    max_abs_err: float
    max_rel_err: float
    tol: float
    ok: bool
    problem: str = ""
    module: str = ""  # its module's name in the model ("" for a lone component, "loss" for the criterion)
    step: int = 0  # the optimizer step of a training run
    local: bool = False  # judged on a rerun of its module fed torch's inputs (see torch_ref/training)

    def describe(self, actual: Any = None, expected: Any = None) -> str:
        where = f"step {self.step}, module '{self.module}', " if self.module else ""
        text = (f"{where}{self.quantity}: max abs err {self.max_abs_err:.3e}, max rel err {self.max_rel_err:.3e} "
                f"(tol {self.tol:.3e}) {self.problem}").rstrip()
        if actual is not None:
            text += f"\n  scratch: {np.array2string(np.asarray(actual), threshold=20)}"
            text += f"\n  torch:   {np.array2string(np.asarray(expected), threshold=20)}"
        return text


def compare_arrays(quantity: str, actual: Any, expected: Any, tol: float, *, min_norm: float | None = None,
                   scale: float = 0.0) -> Comparison:
    """Compare shape, dtype and values (tolerance.py's measure, its scale at least ``scale``); with
    ``min_norm``, torch's value must also be non-trivial, so zeros never "match" zeros."""
    a, b = np.asarray(to_numpy(actual)), np.asarray(to_numpy(expected))
    if a.shape != b.shape or a.dtype != b.dtype:
        return Comparison(quantity, math.inf, math.inf, tol, False,
                          f"shape/dtype mismatch: scratch {a.shape} {a.dtype} vs torch {b.shape} {b.dtype}")
    max_abs, max_rel = relative_error(a, b, scale)
    if min_norm is not None and not np.linalg.norm(b.astype(np.float64)) > min_norm:
        return Comparison(quantity, max_abs, max_rel, tol, False,
                          f"trivial: torch's norm {np.linalg.norm(b):.3e} is not above {min_norm:.1e}")
    return Comparison(quantity, max_abs, max_rel, tol, max_rel <= tol)


@dataclass
class ParityResult:
    """Every comparison made for one component, with the arrays behind each (by quantity) for reporting."""

    comparisons: list[Comparison] = field(default_factory=list)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def add(self, quantity: str, actual: Any, expected: Any, tol: float, min_norm: float | None = None) -> Comparison:
        comparison = compare_arrays(quantity, actual, expected, tol, min_norm=min_norm)
        self.comparisons.append(comparison)
        self.arrays[quantity] = (np.asarray(to_numpy(actual)), np.asarray(to_numpy(expected)))
        return comparison

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def failures(self) -> list[str]:
        """Each failing comparison described, with its two arrays when they were kept."""
        return [c.describe(*self.arrays.get(c.quantity, ())) for c in self.comparisons if not c.ok]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "comparisons": [asdict(c) for c in self.comparisons]}


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, +-inf) inside dicts, lists and tuples replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def strict_json(value: Any, indent: int | None = None) -> str:
    """Strict JSON, that any parser reads: a non-finite float (NaN, +-inf) is written as ``null``."""
    return json.dumps(finite_or_none(value), indent=indent, allow_nan=False)


@dataclass
class NonFinite:
    """The first quantity of a training run that is not finite: the step, the engines where it is NaN or
    infinite, and what it is (``"loss"``, ``"parameter '0.weight' after the update"``, ...)."""

    step: int
    engines: list[str]
    quantity: str
    values: str  # "nan", "inf" or "nan and inf"

    def describe(self) -> str:
        return f"step {self.step}, {self.quantity}: {self.values} in {' and '.join(self.engines)}"


@dataclass
class Report(ParityResult):
    """Every comparison of a side-by-side training run, in the order of computation, with the losses of both
    engines at each step; ``first_divergence`` is where they first part, ``str(report)`` a readable summary."""

    losses: list[tuple[float, float]] = field(default_factory=list)
    model: Any = None
    twin: Any = None
    non_finite: NonFinite | None = None  # where training stopped: a NaN or inf loss, parameter or buffer

    @property
    def ok(self) -> bool:
        """Every comparison within tolerance and every loss and parameter finite: two engines that agree
        on NaN are not at parity."""
        return super().ok and self.non_finite is None

    @property
    def verdict(self) -> str:
        """``"ok"``; ``"diverged"`` when a comparison fails at or before the first non-finite step (one
        engine alone going NaN is a divergence); else ``"non-finite"`` when both engines went NaN or inf."""
        first, bad = self.first_divergence, self.non_finite
        if first is not None and (bad is None or first.step <= bad.step):
            return "diverged"
        return "ok" if bad is None else "non-finite"

    @property
    def first_divergence(self) -> Comparison | None:
        return next((c for c in self.comparisons if not c.ok), None)

    @property
    def max_rel_err_per_step(self) -> list[float]:
        worst = [0.0] * len(self.losses)
        for c in self.comparisons:
            if c.step < len(worst):
                worst[c.step] = max(worst[c.step], c.max_rel_err)
        return worst

    def to_dict(self) -> dict:
        first = self.first_divergence
        return {"ok": self.ok, "verdict": self.verdict, "steps": len(self.losses),
                "first_divergence": None if first is None else asdict(first),
                "non_finite": None if self.non_finite is None else asdict(self.non_finite),
                "losses": [list(pair) for pair in self.losses], "max_rel_err_per_step": self.max_rel_err_per_step,
                "comparisons": [asdict(c) for c in self.comparisons]}

    def to_json(self, indent: int | None = None) -> str:
        """``to_dict`` as strict JSON: a non-finite float (a NaN loss, an infinite error) is ``null``."""
        return strict_json(self.to_dict(), indent)

    def __str__(self) -> str:
        first = self.first_divergence
        lines = [f"parity compare: {len(self.losses)} steps, {len(self.comparisons)} comparisons, "
                 f"{'ok' if self.ok else self.verdict.upper()}"]
        if self.losses:
            ours, theirs = self.losses[-1]
            lines.append(f"final loss: scratch {ours:.6g}, torch {theirs:.6g}")
        if self.non_finite is not None:
            lines.append(f"non-finite: {self.non_finite.describe()} (training stopped there)")
        if first is not None:
            lines.append(f"first divergence: step {first.step}, module '{first.module}', {first.quantity}: "
                         f"max rel err {first.max_rel_err:.3e} > tol {first.tol:.3e} {first.problem}".rstrip())
        worst = sorted(self.comparisons, key=lambda c: c.max_rel_err / c.tol if c.tol else math.inf, reverse=True)
        lines.append(format_table(worst[:10]))
        return "\n".join(lines)


def format_table(comparisons: list[Comparison], title: str = "worst comparisons (by rel err / tol):", *,
                 root: str = "<model>", steps: bool = True, problems: bool = False) -> str:
    """``comparisons`` as a table: (step,) module (``root`` for the model itself), quantity, max abs and rel
    errors, tolerance and verdict; with ``problems``, a comparison's problem on a line below its row."""
    width = max([16, len(root), *(len(c.module) for c in comparisons)])
    q_width = max([24, *(len(c.quantity) for c in comparisons)])
    step_head = f"{'step':>5}  " if steps else ""
    header = (f"{step_head}{'module':<{width}}  {'quantity':<{q_width}}  {'max abs err':>11}  {'max rel err':>11}  "
              f"{'tol':>9}  ok")
    lines = [title, header, "-" * len(header)]
    for c in comparisons:
        verdict = ("ok" if c.ok else "FAIL") + (" (local)" if c.local else "")
        step = f"{c.step:>5}  " if steps else ""
        lines.append(f"{step}{c.module or root:<{width}}  {c.quantity:<{q_width}}  {c.max_abs_err:>11.3e}  "
                     f"{c.max_rel_err:>11.3e}  {c.tol:>9.2e}  {verdict}")
        if c.problem and problems:
            lines.append(f"{'':<{width}}  -> {c.problem}")
    return "\n".join(lines)


def within_atol(comparison: Comparison, atol: float | None) -> Comparison:
    """``comparison``, passing also when its max abs err is within ``atol`` (as in ``torch_ref.training.compare``);
    one with a problem (shape, dtype, a trivial gradient) still fails."""
    if atol is None or comparison.ok or comparison.problem or not comparison.max_abs_err <= atol:
        return comparison
    return replace(comparison, ok=True)


def allow_atol(result: ParityResult, atol: float | None) -> ParityResult:
    """``within_atol`` for every comparison of ``result``, in place; returns ``result``."""
    result.comparisons = [within_atol(c, atol) for c in result.comparisons]
    return result
