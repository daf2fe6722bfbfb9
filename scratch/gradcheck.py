r"""Finite-difference gradient checking for your own layers: NumPy and the standard library only.

Why it works
------------
A module maps its input x (and parameters θ) to an output y. Pick a fixed random upstream
gradient g of y's shape and define the scalar

    L(x, θ) = Σ_i y_i(x, θ) · g_i,        so that   ∂L/∂y = g.

Calling ``module.backward(g)`` must therefore return ∂L/∂x and accumulate ∂L/∂θ into each
``param.grad``. Each of those partial derivatives can also be estimated without any calculus,
by nudging one element at a time and watching L (the *central difference*):

    ∂L/∂x_k ≈ [L(x + ε e_k) - L(x - ε e_k)] / (2ε).

By Taylor's theorem the error of that estimate is ε²/6 · ∂³L/∂x_k³ (truncation) plus about
u·Σ|y_i g_i|/ε (round-off, u = 2⁻⁵², float64's machine epsilon), so in float64 with ε = 1e-6 it is accurate
to roughly 1e-9 on moderate values, while a wrong formula is off by O(1). Comparing the two,
element by element, with

    |analytic - numeric| ≤ atol + rtol · |numeric|

tells a correct backward from a wrong one.

Why g is random and never all ones: with g = 1 the check only sees Σ_i ∂y_i/∂x, the column
sums of the Jacobian, so a backward that permutes, transposes or mixes up the output
positions can still pass. A random g checks an arbitrary linear combination of the Jacobian's
rows, which a wrong Jacobian matches only by accident.

Everything runs in float64 on a private deep copy of the module (cast with ``.to(np.float64)``
when it is float32), so the module you pass in -- its parameters, gradients and saved state --
is left exactly as it was; inside the copy every perturbed element is restored right after use.

Use::

    from scratch.gradcheck import gradcheck, gradcheck_loss
    gradcheck(MyLayer(4, 3), np.random.default_rng(0).standard_normal((5, 4))).raise_on_failure()
    gradcheck_loss(nn.CrossEntropyLoss(), logits, labels).raise_on_failure()

A check costs two forward passes per input and parameter element, so keep the sizes small.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GradcheckError", "GradcheckResult", "GradientCheck", "gradcheck", "gradcheck_loss"]

#: The default ``atol``: at least this, raised to the round-off floor ``ROUNDOFF · u · Σ|y_i g_i| / ε``.
DEFAULT_ATOL = 1e-8
ROUNDOFF = 16
#: The default upstream gradient's seed: fixed for reproducibility, and deliberately not 0, the seed
#: your test data most likely came from (an upstream g equal to the input x hides e.g. a transposed dW = xᵀx).
DEFAULT_SEED = 20_250_917


class GradcheckError(AssertionError):
    """Raised by ``GradcheckResult.raise_on_failure`` when an analytic gradient is wrong."""


@dataclass
class GradientCheck:
    """The comparison for one quantity: an input (``"input"``, ``"input[1]"``) or a parameter
    (``"weight"``, ``"0.bias"``)."""

    quantity: str
    analytic: np.ndarray  # what backward produced
    numeric: np.ndarray  # the central-difference estimate
    atol: float
    rtol: float
    problem: str = ""  # set when the analytic gradient is missing or has the wrong shape

    @property
    def max_abs_err(self) -> float:
        """max_k |analytic_k - numeric_k| (inf when the shapes differ)."""
        if self.problem:
            return float("inf")
        return float(np.max(np.abs(self.analytic - self.numeric), initial=0.0))

    @property
    def score(self) -> float:
        """max_k |analytic_k - numeric_k| / (atol + rtol·|numeric_k|): at most 1 passes."""
        if self.problem:
            return float("inf")
        if self.analytic.size == 0:
            return 0.0
        with np.errstate(invalid="ignore"):
            ratio = np.abs(self.analytic - self.numeric) / (self.atol + self.rtol * np.abs(self.numeric))
        return float("inf") if np.isnan(ratio).any() else float(ratio.max())

    @property
    def ok(self) -> bool:
        return self.score <= 1.0

    @property
    def norm(self) -> float:
        """‖numeric‖₂: the size of the true gradient, to tell a non-trivial check from 0 == 0."""
        return float(np.linalg.norm(self.numeric))

    @property
    def worst_index(self) -> tuple[int, ...]:
        """The element where the analytic and numeric gradients disagree most (relative to tolerance)."""
        if self.problem or self.analytic.size == 0:
            return ()
        with np.errstate(invalid="ignore"):
            ratio = np.abs(self.analytic - self.numeric) / (self.atol + self.rtol * np.abs(self.numeric))
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        return tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))

    def describe(self) -> str:
        if self.problem:
            return f"{self.quantity}: {self.problem}"
        index = self.worst_index
        where = f"[{', '.join(map(str, index))}]" if index else ""
        text = (f"{self.quantity}: max abs err {self.max_abs_err:.3e}, {self.score:.3g}x the tolerance "
                f"(atol {self.atol:.1e} + rtol {self.rtol:.1e}·|numeric|), norm {self.norm:.3e}")
        if self.analytic.size:
            text += (f"\n    worst at {self.quantity}{where}: analytic {self.analytic[index]:.10g}, "
                     f"numeric {self.numeric[index]:.10g}")
        return text


@dataclass
class GradcheckResult:
    """Every ``GradientCheck`` of one run, the worst first in ``describe``."""

    what: str
    checks: list[GradientCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def worst(self) -> GradientCheck:
        """The check with the largest error relative to its tolerance."""
        if not self.checks:
            raise ValueError(f"{self.what}: nothing was checked")
        return max(self.checks, key=lambda check: check.score)

    def __getitem__(self, quantity: str) -> GradientCheck:
        for check in self.checks:
            if check.quantity == quantity:
                return check
        raise KeyError(f"{self.what}: no check named {quantity!r}; have {[c.quantity for c in self.checks]}")

    def describe(self) -> str:
        if not self.checks:
            return f"{self.what}: nothing was checked (no float input and no trainable parameter)"
        verdict = "ok" if self.ok else f"FAILED, worst: {self.worst.quantity}"
        lines = [f"gradcheck {self.what}: {verdict}"]
        lines += ["  " + check.describe() for check in sorted(self.checks, key=lambda c: -c.score)]
        return "\n".join(lines)

    __str__ = describe

    def raise_on_failure(self) -> GradcheckResult:
        """Raise ``GradcheckError`` naming the worst quantity and its error unless every check passed."""
        if not self.ok:
            raise GradcheckError("analytic gradient disagrees with finite differences.\n" + self.describe())
        return self


# ----------------------------------------------------------------------------- helpers
def _is_float(array: Any) -> bool:
    return isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating)


def _to64(value: Any) -> Any:
    """Float arrays become float64 copies; anything else (class indices, None) passes unchanged."""
    return np.array(value, dtype=np.float64, copy=True) if _is_float(value) else value


def _float64_copy(module: Any) -> Any:
    """A deep copy of ``module`` in float64, so the caller's module is never touched."""
    work = copy.deepcopy(module)
    if hasattr(work, "to"):
        work.to(np.float64)
    return work


def _trainable(module: Any) -> list[tuple[str, Any]]:
    if not hasattr(module, "named_parameters"):
        return []
    return [(name, p) for name, p in module.named_parameters() if getattr(p, "requires_grad", True)]


def _random_upstream(like: np.ndarray, given: Any, rng: np.random.Generator, name: str) -> np.ndarray:
    like = np.asarray(like)
    if given is None:
        return rng.standard_normal(like.shape)
    grad = np.array(given, dtype=np.float64, copy=True)
    grad = np.broadcast_to(grad, like.shape).copy() if grad.shape != like.shape else grad
    if grad.size > 1 and np.all(grad == grad.flat[0]):
        warnings.warn(f"gradcheck: the {name} you passed is constant; a constant upstream gradient only checks "
                      "sums of the Jacobian and can hide wrong backward passes. Leave it None for a random one.",
                      UserWarning, stacklevel=3)
    return grad


def _numeric_gradient(objective: Callable[[], float], array: np.ndarray, eps: float) -> np.ndarray:
    r"""Central differences of ``objective()`` with respect to every element of ``array``, which is
    perturbed in place and restored to its exact original value after each element."""
    grad = np.empty(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        try:
            array[index] = original + eps
            plus = objective()
            array[index] = original - eps
            minus = objective()
        finally:
            array[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def _analytic(name: str, value: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, str]:
    if value is None:
        return np.zeros(shape), "backward produced no gradient for it (None)"
    value = np.asarray(value, dtype=np.float64)
    if value.shape != shape:
        return np.zeros(shape), f"analytic gradient has shape {value.shape}, expected {shape}"
    return value.copy(), ""


def _default_atol(atol: float | None, terms: np.ndarray, eps: float) -> float:
    """The round-off floor of a central difference: u · Σ|terms of L| / ε, times a safety factor."""
    if atol is not None:
        return float(atol)
    total = float(np.sum(np.abs(terms))) if np.size(terms) else 0.0
    return max(DEFAULT_ATOL, ROUNDOFF * float(np.finfo(np.float64).eps) * total / eps)


def _check_all(what: str, objective: Callable[[], float], analytic_inputs: Sequence[tuple[str, np.ndarray, Any]],
               params: list[tuple[str, Any, Any]], eps: float, rtol: float, atol: float) -> GradcheckResult:
    """Compare each analytic gradient with central differences of ``objective``."""
    result = GradcheckResult(what)
    for name, array, analytic in analytic_inputs:
        numeric = _numeric_gradient(objective, array, eps)
        value, problem = _analytic(name, analytic, array.shape)
        result.checks.append(GradientCheck(name, value, numeric, atol, rtol, problem))
    for name, param, analytic in params:
        numeric = _numeric_gradient(objective, param.data, eps)
        value, problem = _analytic(name, analytic, param.data.shape)
        result.checks.append(GradientCheck(name, value, numeric, atol, rtol, problem))
    return result


# --------------------------------------------------------------------------- the checks
def gradcheck(module: Any, *inputs: np.ndarray, grad_output: np.ndarray | None = None, eps: float = 1e-6,
              rtol: float = 1e-6, atol: float | None = None,
              rng: np.random.Generator | None = None) -> GradcheckResult:
    r"""Check ``module.backward`` against central differences of L = Σ module(*inputs) ∘ g.

    Args:
        module: a layer with ``forward``/``__call__`` and ``backward(grad_output)``; ``backward``
            returns dL/dx (a tuple of them when the module takes several float inputs) and
            accumulates each trainable parameter's gradient into ``param.grad``.
        inputs: the input arrays. Float arrays are checked; others (indices) are passed as they are.
        grad_output: the upstream gradient g = ∂L/∂y. Default: standard normal draws from ``rng``
            (a constant one is accepted with a warning: it hides wrong Jacobians).
        eps: the perturbation ε of each element.
        rtol, atol: an element passes when |analytic - numeric| ≤ atol + rtol·|numeric|. The default
            atol is 1e-8, raised to the round-off floor 16·u·Σ|y_i g_i|/ε for large outputs.
        rng: ``np.random.Generator`` for g. Default: ``np.random.default_rng(DEFAULT_SEED)``.

    Returns:
        a ``GradcheckResult``: ``.ok``, ``.worst``, ``result["weight"]`` and ``.raise_on_failure()``.
        The module passed in, its gradients included, is left unchanged.
    """
    rng = np.random.default_rng(DEFAULT_SEED) if rng is None else rng
    work = _float64_copy(module)
    xs = [_to64(x) for x in inputs]
    params = _trainable(work)
    for _, param in params:  # zero the gradients, so param.grad is exactly this backward's contribution
        param.grad = None

    out = np.asarray(work(*[x.copy() if _is_float(x) else x for x in xs]))
    if not np.issubdtype(out.dtype, np.floating):
        raise TypeError(f"gradcheck: {type(module).__name__} returned dtype {out.dtype}, expected floats")
    if out.dtype != np.float64:
        warnings.warn(f"gradcheck: {type(module).__name__} returned {out.dtype} for float64 inputs and parameters; "
                      "finite differences need float64 throughout (does the layer hard-code a dtype?)",
                      UserWarning, stacklevel=2)
    g = _random_upstream(out, grad_output, rng, "grad_output")
    grads = work.backward(g.copy())
    float_positions = [i for i, x in enumerate(xs) if _is_float(x)]
    if isinstance(grads, (tuple, list)):
        analytic_by_input = {i: grads[i] if i < len(grads) else None for i in float_positions}
    else:
        analytic_by_input = {float_positions[0]: grads} if float_positions else {}
    analytic_params = [(name, p, None if p.grad is None else p.grad.copy()) for name, p in params]

    def objective() -> float:
        # fresh copies: an in-place layer (ReLU(inplace=True)) must not overwrite the perturbed input
        y = work(*[x.copy() if _is_float(x) else x for x in xs])
        return float(np.sum(np.asarray(y, dtype=np.float64) * g))

    single = len(float_positions) == 1
    checked_inputs = [("input" if single else f"input[{i}]", xs[i], analytic_by_input.get(i))
                      for i in float_positions]
    tol = _default_atol(atol, out * g, eps)
    return _check_all(type(module).__name__, objective, checked_inputs, analytic_params, eps, rtol, tol)


def gradcheck_loss(criterion: Any, input: np.ndarray | Sequence[np.ndarray], target: np.ndarray, grad: Any = None,
                   eps: float = 1e-6, rtol: float = 1e-6, atol: float | None = None,
                   rng: np.random.Generator | None = None) -> GradcheckResult:
    r"""Check ``criterion.backward(grad)`` against central differences of L = Σ grad ∘ criterion(input, target).

    ``grad`` (∂L/∂loss) defaults to a random number for a reduced (0-d) loss, so the scaling of the
    gradient by it is checked too, and to a random array of the loss's shape for reduction='none'.
    Only ``input`` is perturbed; a float ``target`` (probabilities, regression targets) is cast to
    float64 and held fixed, integer class indices pass as they are. Keep probability inputs away
    from 0 and 1 (BCE) so that input ± ε stays inside [0, 1]. Other arguments as in ``gradcheck``.

    ``input`` may be a tuple of float inputs (``CosineEmbeddingLoss``'s ``input1, input2``): the loss
    is called as ``criterion(*input, target)``, ``backward`` returns one gradient per input, and the
    checks are named ``"input[0]"``, ``"input[1]"``, ...
    """
    rng = np.random.default_rng(DEFAULT_SEED) if rng is None else rng
    work = _float64_copy(criterion)
    several = isinstance(input, tuple)  # a tuple is several inputs; a (nested) list is one array
    xs = [_to64(np.asarray(x)) for x in (input if several else [input])]
    t = _to64(np.asarray(target))
    for x in xs:
        if not _is_float(x):
            raise TypeError(f"gradcheck_loss: input must be a float array, got dtype {x.dtype}")
    params = _trainable(work)
    for _, param in params:
        param.grad = None

    loss = np.asarray(work(*[x.copy() for x in xs], t))
    upstream = _random_upstream(loss, grad, rng, "grad")
    dinputs = work.backward(upstream.copy())
    dinputs = list(dinputs) if several else [dinputs]
    analytic_params = [(name, p, None if p.grad is None else p.grad.copy()) for name, p in params]

    def objective() -> float:
        return float(np.sum(np.asarray(work(*[x.copy() for x in xs], t), dtype=np.float64) * upstream))

    tol = _default_atol(atol, loss * upstream, eps)
    what = f"{type(criterion).__name__}(reduction={getattr(criterion, 'reduction', '?')!r})"
    names = [f"input[{i}]" for i in range(len(xs))] if several else ["input"]
    checked = [(name, x, dinputs[i] if i < len(dinputs) else None) for i, (name, x) in enumerate(zip(names, xs))]
    return _check_all(what, objective, checked, analytic_params, eps, rtol, tol)
