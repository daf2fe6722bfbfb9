"""LogSigmoid, Tanhshrink, Softmin, Softmax2d and GLU: random inputs, saturating magnitudes, every dim and the
unbatched shapes."""

from __future__ import annotations

from scratch import nn

from .activation import spread_out
from .case import Case, elementwise, fresh, module_case
from .data import normal


def _shaped(module: nn.Module, *shape: int, scale: float = 2.0):
    return lambda d, r: (fresh(module), [normal(r, d, *shape, scale=scale)])


CASES: list[Case] = [
    module_case("LogSigmoid", elementwise(nn.LogSigmoid())),
    module_case("LogSigmoid(spread to ±1e4)", spread_out(nn.LogSigmoid())),
    module_case("LogSigmoid(0-D)", _shaped(nn.LogSigmoid())),
    module_case("Tanhshrink", elementwise(nn.Tanhshrink())),
    module_case("Tanhshrink(spread to ±1e4)", spread_out(nn.Tanhshrink())),
    module_case("Softmin(dim=1)", elementwise(nn.Softmin(dim=1))),
    module_case("Softmin(dim=-1,3-D)", _shaped(nn.Softmin(dim=-1), 4, 3, 6)),
    module_case("Softmax2d", _shaped(nn.Softmax2d(), 2, 3, 4, 5)),
    module_case("Softmax2d(unbatched)", _shaped(nn.Softmax2d(), 3, 4, 5, scale=5)),
    module_case("GLU", _shaped(nn.GLU(), 5, 6)),
    module_case("GLU(dim=1,3-D)", _shaped(nn.GLU(dim=1), 3, 4, 5)),
    module_case("GLU(dim=0,unbatched)", _shaped(nn.GLU(dim=0), 8)),
    module_case("GLU(saturated gate)", _shaped(nn.GLU(dim=-2), 6, 4, scale=40)),
]
