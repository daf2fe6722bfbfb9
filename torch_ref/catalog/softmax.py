"""The softmaxes' configurations (``scratch.nn.modules.softmax``): along each dim, on 3-D input, and on
logits near 1e3 or spread to ±1e3, where an unshifted exponential would overflow."""

from __future__ import annotations

from scratch import nn

from .case import Case, Make, elementwise, fresh, module_case
from .data import normal


def _shifted(module: nn.Module, shift: float, scale: float = 1.0) -> Make:
    """``shift`` plus a (6, 5) normal input times ``scale``: large logits."""
    return lambda d, r: (fresh(module), [(shift + normal(r, d, 6, 5, scale=scale)).astype(d)])


CASES: list[Case] = [
        module_case("Softmax(dim=1)", elementwise(nn.Softmax(dim=1))),
        module_case("Softmax(dim=0)", elementwise(nn.Softmax(dim=0))),
        module_case("Softmax(dim=-1,3-D)", lambda d, r: (nn.Softmax(dim=-1), [normal(r, d, 4, 3, 6, scale=3)])),
        module_case("Softmax(logits near 1e3)", _shifted(nn.Softmax(dim=1), 1e3)),
        module_case("LogSoftmax(dim=1)", elementwise(nn.LogSoftmax(dim=1))),
        module_case("LogSoftmax(dim=0,3-D)", lambda d, r: (nn.LogSoftmax(dim=0), [normal(r, d, 4, 3, 6, scale=3)])),
        module_case("LogSoftmax(logits near 1e3)", _shifted(nn.LogSoftmax(dim=1), 1e3)),
        module_case("LogSoftmax(logits spread to ±1e3)", _shifted(nn.LogSoftmax(dim=1), 0.0, scale=1e3)),
]
