r"""The scale a module's input gradient is judged against when its formula cancels larger terms.

The parity measure (``torch_ref/tolerance.py``) judges an element's error relative to |b_i| + max|b|, the
array's own scale, standing in for the magnitude of the terms each value was computed from. For a gradient
that cancels terms larger than every value of its array this is not the round-off bound: with
dL/dx = g (1 - y^2), Tanh's gradient is a difference of the terms g and g y^2, and a rounding of y (NumPy's
and torch's tanh differ in the last ulp, ``|δy| <~ eps |y|``) moves it by ``2 |g| |y| |δy| <~ 2 eps |g| y^2``,
which for y near ±1 is far above eps |g (1 - y^2)|. Relative to the magnitude of its terms, |g| (1 + y^2),
that same error is O(eps), as any correct rounding is. So such a gradient is compared with the measure's
scale raised to ``max_i |g_i| (1 + y_i^2)`` (``compare_arrays(scale=...)``, as ``tolerance.py`` describes for
trajectories): the tolerance is unchanged, only what it is relative to. A formula slip is off by about
|b| itself and still fails. Only the classes whose gradient formula is listed here are judged so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..arrays import leaves, to_numpy


def _tanh_terms(output: Any, grad_output: Any) -> float:
    """max |g| (1 + y^2): the terms of dL/dx = g - g y^2."""
    y, g = (np.asarray(to_numpy(a), dtype=np.float64) for a in (output, grad_output))
    return float(np.max(np.abs(g) * (1 + y * y), initial=0.0))


#: class name -> (torch's output, the upstream gradient) -> the magnitude of its input gradient's terms
TERMS: dict[str, Callable[[Any, Any], float]] = {"Tanh": _tanh_terms}


def gradient_scale(name: str, torch_output: Any, grad_output: Any) -> float:
    """The scale of class ``name``'s input gradient: the magnitude of the terms it cancels where its formula
    is listed in ``TERMS``, else 0 (the measure's own scale, max|b|, stands)."""
    if name not in TERMS:
        return 0.0
    return TERMS[name](leaves(torch_output)[0], leaves(grad_output)[0])
