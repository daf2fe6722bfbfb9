"""The strong-Wolfe line search of ``LBFGS`` (torch.optim.lbfgs's ``_strong_wolfe`` and ``_cubic_interpolate``,
after minFunc), step for step: the same brackets, the same interpolations, the same stopping rules.

Scalars (``f``, ``gtd``, ``t``) keep the types torch gives them: a loss is a Python float, a directional
derivative a NumPy scalar of the parameters' dtype (torch's 0-d tensor), so comparisons and products round
as torch's do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _torch_arith as arith

#: obj_func(x, t, d) -> (loss, flat gradient) at x + t d
Objective = Callable[[list[np.ndarray], Any, np.ndarray], tuple[float, np.ndarray]]


def cubic_interpolate(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
                      bounds: tuple[Any, Any] | None = None) -> Any:
    """The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to ``bounds`` (default
    [min(x1, x2), max(x1, x2)]); their midpoint where the cubic has no real minimizer."""
    xmin_bound, xmax_bound = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - arith.rdiv(3 * (f1 - f2), x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = arith.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


@dataclass
class _Bracket:
    """The interval [t_lo, t_hi] (in any order) with each end's loss, gradient and directional derivative."""

    t: list[Any] = field(default_factory=list)
    f: list[Any] = field(default_factory=list)
    g: list[Any] = field(default_factory=list)
    gtd: list[Any] = field(default_factory=list)


def strong_wolfe(obj_func: Objective, x: list[np.ndarray], t: Any, d: np.ndarray, f: float, g: np.ndarray,
                 gtd: Any, c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                 max_ls: int = 25) -> tuple[float, np.ndarray, Any, int]:
    """A step t along ``d`` from ``x`` meeting the strong Wolfe conditions: (loss, flat gradient, t, number
    of function evaluations), as torch's ``_strong_wolfe``."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    gtd_new = arith.dot(g_new, d)
    bracket, done, ls_iter, evals = _bracket_phase(obj_func, x, t, d, f, g, gtd, f_new, g_new, gtd_new,
                                                   c1, c2, max_ls)
    evals += 1
    insuf_progress = False
    low, high = (0, 1) if bracket.f[0] <= bracket.f[-1] else (1, 0)
    while not done and ls_iter < max_ls:  # zoom: shrink the bracket by cubic interpolation
        if abs(bracket.t[1] - bracket.t[0]) * d_norm < tolerance_change:
            break
        t, insuf_progress = _zoom_point(bracket, insuf_progress)
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = arith.dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket.f[low]:
            _set_end(bracket, high, t, f_new, g_new.copy(), gtd_new)
            low, high = (0, 1) if bracket.f[0] <= bracket.f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket.t[high] - bracket.t[low]) >= 0:
                _set_end(bracket, high, bracket.t[low], bracket.f[low], bracket.g[low], bracket.gtd[low])
            _set_end(bracket, low, t, f_new, g_new.copy(), gtd_new)
    return bracket.f[low], bracket.g[low], bracket.t[low], evals


def _bracket_phase(obj_func: Objective, x: list[np.ndarray], t: Any, d: np.ndarray, f: float, g: np.ndarray,
                   gtd: Any, f_new: float, g_new: np.ndarray, gtd_new: Any, c1: float, c2: float,
                   max_ls: int) -> tuple[_Bracket, bool, int, int]:
    """Grow t until an interval brackets a point meeting the conditions (or one is found): (the bracket,
    done, line-search iterations, evaluations made here)."""
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    ls_iter = evals = 0
    while ls_iter < max_ls:
        two_ends = _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new])
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            return two_ends, False, ls_iter, evals
        if abs(gtd_new) <= -c2 * gtd:
            return _Bracket([t], [f_new], [g_new]), True, ls_iter, evals
        if gtd_new >= 0:
            return two_ends, False, ls_iter, evals
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = arith.dot(g_new, d)
        ls_iter += 1
    return _Bracket([0, t], [f, f_new], [g, g_new]), False, ls_iter, evals  # reached max_ls


def _zoom_point(bracket: _Bracket, insuf_progress: bool) -> tuple[Any, bool]:
    """The next trial point inside the bracket, kept at least a tenth of its width from either end once
    progress stalls (torch's rule); and the new insufficient-progress flag."""
    t = cubic_interpolate(bracket.t[0], bracket.f[0], bracket.gtd[0], bracket.t[1], bracket.f[1], bracket.gtd[1])
    top, bottom = max(bracket.t), min(bracket.t)
    eps = 0.1 * (top - bottom)
    if min(top - t, t - bottom) < eps:
        if insuf_progress or t >= top or t <= bottom:
            t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
            return t, False
        return t, True
    return t, False


def _set_end(bracket: _Bracket, index: int, t: Any, f: float, g: np.ndarray, gtd: Any) -> None:
    bracket.t[index], bracket.f[index], bracket.g[index], bracket.gtd[index] = t, f, g, gtd
