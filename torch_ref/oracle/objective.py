"""The function an optimizer whose ``step`` needs a closure (torch's ``step_requires_closure``: LBFGS) minimizes
in the oracle, in place of the random gradients the others get: of every parameter's elements, flattened in
order into x (61 values), with r = x - a,

    f(x) = SCALE (Σ_i w_i r_i² + (1/4) Σ_i r_i⁴ + (1/2) Σ_i (r_{i+1} - r_i)²),      ∂f/∂x by hand

a convex coupled quartic bowl whose minimum, 0, is at a; a new target a (small: 0.01 N(0, 1)) and weights w
(in [1, 2]) are drawn for every optimizer step, so each step starts a new descent. Its minimum being 0, a
converging run stops on its loss changing by less than tolerance_change (1e-9); the small SCALE and small a
make that happen while x - a is still far above its rounding (a target near 1, or a function with a
nonzero minimum, leaves float32 iterating on rounding noise, where the two engines' rounding decides the
branches), and convexity makes rounding differences shrink along the descent instead of growing as in a
Rosenbrock valley. Both engines call the same NumPy function on their own parameters, in their dtype: the
only difference between them is the optimizer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..arrays import to_numpy

SCALE = 1e-4


def objective(x: np.ndarray, target: np.ndarray, reordered: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), ∂f/∂x), in x's dtype; ``target`` holds a then w. ``reordered``: the same function with its sums
    and products taken in another order, so that its values differ from the first by rounding alone."""
    a, w = target
    r = x - a
    r2 = r * r
    link = r[1:] - r[:-1]
    if reordered:
        loss = 0.5 * np.sum((link * link)[::-1]) + 0.25 * np.sum((r2 * r2)[::-1]) + np.sum((w * r2)[::-1])
        grad = (2 * w + r2) * r
    else:
        loss = np.sum(w * r2) + 0.25 * np.sum(r2 * r2) + 0.5 * np.sum(link * link)
        grad = 2 * w * r + r2 * r
    grad[1:] += link
    grad[:-1] -= link
    return loss * SCALE, grad * SCALE


def new_target(rng: np.random.Generator, params: dict[str, Any], dtype: np.dtype) -> np.ndarray:
    """This step's (a, w): a = 1 plus a small random shift and w in [1, 2], one of each per element."""
    size = sum(int(np.prod(np.shape(p))) for p in params.values())
    return np.stack([0.01 * rng.standard_normal(size), 1 + rng.random(size)]).astype(dtype)


def scratch_closure(params: dict[str, Any], target: np.ndarray) -> Callable[[], np.ndarray]:
    """The closure for scratch's optimizer: sets each Parameter's .grad and returns the loss."""
    def closure() -> np.ndarray:
        loss, grad = objective(np.concatenate([p.data.reshape(-1) for p in params.values()]), target)
        for p, part in zip(params.values(), _split(grad, params), strict=True):
            p.grad = part
        return loss
    return closure


def torch_closure(params: dict[str, torch.Tensor], target: np.ndarray,
                  reordered: bool = False) -> Callable[[], torch.Tensor]:
    """The closure for torch's optimizer: the same function of torch's parameters (``reordered``: evaluated in
    another order), .grad set as a tensor."""
    def closure() -> torch.Tensor:
        x = np.concatenate([to_numpy(t, copy=True).reshape(-1) for t in params.values()])
        loss, grad = objective(x, target, reordered)
        for t, part in zip(params.values(), _split(grad, params), strict=True):
            t.grad = torch.tensor(part)
        return torch.tensor(loss)
    return closure


def _split(flat: np.ndarray, params: dict[str, Any]) -> list[np.ndarray]:
    """``flat`` cut into arrays shaped like ``params``, in order."""
    parts, offset = [], 0
    for p in params.values():
        shape = tuple(np.shape(p))
        size = int(np.prod(shape))
        parts.append(flat[offset:offset + size].reshape(shape).copy())
        offset += size
    return parts
