"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad in 1-D, 2-D and 3-D, with
asymmetric and negative (cropping) widths, widths up to the limit each mode allows, unbatched inputs and
inputs of more dims (constant modes)."""

from __future__ import annotations

from scratch import nn

from .case import Case, Make, fresh, module_case
from .data import normal


def on(module: nn.Module, *shape: int) -> Make:
    """``make`` applying ``module`` to a normal input of ``shape``."""
    return lambda dtype, rng: (fresh(module), [normal(rng, dtype, *shape)])


def _case(module: nn.Module, label: str, *shape: int) -> Case:
    return module_case(f"{type(module).__name__}({label})", on(module, *shape))


def _mode_cases(name: str, limit: int) -> list[Case]:
    """The cases of ``{name}Pad1d/2d/3d``; ``limit`` is the widest padding its mode allows on a size-4 axis."""
    p1, p2, p3 = (getattr(nn, f"{name}Pad{k}d") for k in (1, 2, 3))
    return [
        _case(p1(2), "2", 3, 4, 7),
        _case(p1((limit, 1)), f"({limit},1),limit", 2, 3, 4),
        _case(p1((-2, 3)), "(-2,3),crop", 2, 3, 6),
        _case(p1((1, -1)), "(1,-1),unbatched", 3, 5),
        _case(p2(1), "1", 2, 3, 5, 6),
        _case(p2((2, 0, 1, 3)), "(2,0,1,3)", 2, 3, 5, 4),
        _case(p2((-1, 2, 3, -2)), "(-1,2,3,-2),crop", 2, 2, 5, 6),
        _case(p2((limit, limit, 1, 0)), "limit,unbatched", 3, 5, 4),
        _case(p3(1), "1", 2, 2, 3, 4, 5),
        _case(p3((1, 2, 0, 1, 2, 1)), "(1,2,0,1,2,1)", 2, 2, 3, 4, 5),
        _case(p3((-1, 1, 2, -2, 1, 0)), "crop,unbatched", 2, 3, 4, 5),
    ]


def _constant_cases() -> list[Case]:
    c1, c2, c3 = nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d
    z1, z2, z3 = nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d
    return [
        _case(c1(2, 3.5), "2,3.5", 3, 4, 7),
        _case(c1((0, 3), -1.0), "(0,3),-1", 7),
        _case(c1((-2, 4), 2.0), "(-2,4),crop", 2, 3, 5),
        _case(c2((1, 2, 0, 3), 0.5), "(1,2,0,3)", 2, 3, 4, 5),
        _case(c2((-1, 2, 1, -3), 1.5), "crop,5-D", 2, 2, 3, 5, 6),
        _case(c3(1, -2.0), "1,-2", 2, 2, 3, 4, 5),
        _case(c3((2, 0, -1, 1, 0, 2), 4.0), "(2,0,-1,1,0,2),unbatched", 3, 3, 4),
        _case(z1(3), "3", 2, 4, 6),
        _case(z1((-1, 2)), "(-1,2),unbatched", 3, 6),
        _case(z2((1, 0, 2, 1)), "(1,0,2,1)", 2, 3, 5, 4),
        _case(z2(-1), "-1,crop", 2, 3, 5, 4),
        _case(z3((1, 1, 0, 2, 3, 0)), "(1,1,0,2,3,0)", 2, 2, 3, 4, 5),
        _case(z3(2), "2,3-D input", 3, 4, 5),
    ]


CASES = [*_mode_cases("Reflection", 3), *_mode_cases("Replication", 6), *_mode_cases("Circular", 4),
         *_constant_cases()]
