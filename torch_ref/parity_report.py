"""The result of ``torch_ref.parity.compare``: every comparison of a side-by-side run, in the order
of computation, with the first divergence, the losses of both engines and a readable summary."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One comparison: ``quantity`` of ``module`` at ``step``; ``local`` when judged on a rerun."""

    step: int
    module: str
    quantity: str
    max_abs_err: float
    max_rel_err: float
    tol: float
    ok: bool
    local: bool = False
    problem: str = ""


Divergence = Row  # the first failing row


@dataclass
class Report:
    """Every comparison of a side-by-side run (see the module docstring)."""

    rows: list[Row] = field(default_factory=list)
    losses: list[tuple[float, float]] = field(default_factory=list)
    model: Any = None
    twin: Any = None

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def first_divergence(self) -> Divergence | None:
        return next((row for row in self.rows if not row.ok), None)

    @property
    def max_rel_err_per_step(self) -> list[float]:
        worst = [0.0] * len(self.losses)
        for row in self.rows:
            if row.step < len(worst):
                worst[row.step] = max(worst[row.step], row.max_rel_err)
        return worst

    def to_dict(self) -> dict:
        first = self.first_divergence
        return {"ok": self.ok, "steps": len(self.losses), "first_divergence": None if first is None else asdict(first),
                "losses": [list(pair) for pair in self.losses], "max_rel_err_per_step": self.max_rel_err_per_step,
                "rows": [asdict(row) for row in self.rows]}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        first = self.first_divergence
        lines = [f"parity compare: {len(self.losses)} steps, {len(self.rows)} comparisons, "
                 f"{'ok' if self.ok else 'DIVERGED'}"]
        if self.losses:
            ours, theirs = self.losses[-1]
            lines.append(f"final loss: scratch {ours:.6g}, torch {theirs:.6g}")
        if first is not None:
            lines.append(f"first divergence: step {first.step}, module '{first.module}', {first.quantity}: "
                         f"max rel err {first.max_rel_err:.3e} > tol {first.tol:.3e} {first.problem}".rstrip())
        worst = sorted(self.rows, key=lambda r: r.max_rel_err / r.tol if r.tol else math.inf, reverse=True)[:10]
        lines.append(_table(worst))
        return "\n".join(lines)


def _table(rows: list[Row]) -> str:
    header = f"{'step':>5}  {'module':<16}  {'quantity':<24}  {'max abs err':>11}  {'max rel err':>11}  {'tol':>9}  ok"
    lines = ["worst comparisons (by rel err / tol):", header, "-" * len(header)]
    for r in rows:
        verdict = ("ok" if r.ok else "FAIL") + (" (local)" if r.local else "")
        lines.append(f"{r.step:>5}  {r.module or '<model>':<16}  {r.quantity:<24}  {r.max_abs_err:>11.3e}  "
                     f"{r.max_rel_err:>11.3e}  {r.tol:>9.2e}  {verdict}")
    return "\n".join(lines)
