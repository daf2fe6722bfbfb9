"""Instance normalization: InstanceNorm1d/2d/3d, batched and unbatched, with and without running statistics, and
the lazy forms."""

from __future__ import annotations

from collections.abc import Callable

from scratch import nn

from .case import Case, module_case
from .normalization import lazy_norm, norm


def _cases(cls: Callable[..., nn.Module], batched: tuple[int, ...]) -> list[Case]:
    name, unbatched = cls.__name__, batched[1:]
    c = batched[1]
    return [
        module_case(name, norm(lambda d: cls(c, dtype=d), *batched)),
        module_case(f"{name}(unbatched)", norm(lambda d: cls(c, dtype=d), *unbatched)),
        module_case(f"{name}(affine=True)", norm(lambda d: cls(c, affine=True, dtype=d), *batched)),
        module_case(f"{name}(affine=True,bias=False)", norm(lambda d: cls(c, affine=True, bias=False, dtype=d),
                                                            *batched)),
        module_case(f"{name}(track_running_stats=True,eps=1e-3,momentum=0.3)",
                    norm(lambda d: cls(c, 1e-3, 0.3, False, True, dtype=d), *batched)),
        module_case(f"{name}(track_running_stats=True,unbatched)",
                    norm(lambda d: cls(c, track_running_stats=True, dtype=d), *unbatched)),
        module_case(f"{name}(track_running_stats=True,eval)",
                    norm(lambda d: cls(c, affine=True, track_running_stats=True, dtype=d), *batched, eval=True)),
        module_case(f"{name}(track_running_stats=True,momentum=None)",
                    norm(lambda d: cls(c, momentum=None, track_running_stats=True, dtype=d), *batched)),
        module_case(f"{name}(eval,no running stats)", norm(lambda d: cls(c, affine=True, dtype=d), *batched,
                                                             eval=True)),
    ]


CASES: list[Case] = [
    *_cases(nn.InstanceNorm1d, (4, 3, 15)),
    *_cases(nn.InstanceNorm2d, (4, 3, 6, 5)),
    *_cases(nn.InstanceNorm3d, (2, 3, 4, 3, 4)),
    module_case("LazyInstanceNorm1d", lazy_norm(lambda d: nn.LazyInstanceNorm1d(dtype=d), 4, 3, 15)),
    module_case("LazyInstanceNorm1d(affine=False,track_running_stats=False)",
                lazy_norm(lambda d: nn.LazyInstanceNorm1d(affine=False, track_running_stats=False, dtype=d), 4, 3, 7)),
    module_case("LazyInstanceNorm2d(eval,momentum=0.3)",
                lazy_norm(lambda d: nn.LazyInstanceNorm2d(momentum=0.3, dtype=d), 4, 3, 6, 5, eval=True)),
    module_case("LazyInstanceNorm2d(bias=False,track_running_stats=False)",
                lazy_norm(lambda d: nn.LazyInstanceNorm2d(track_running_stats=False, bias=False, dtype=d), 2, 3, 4, 4)),
    module_case("LazyInstanceNorm3d", lazy_norm(lambda d: nn.LazyInstanceNorm3d(dtype=d), 2, 3, 4, 3, 4)),
    module_case("InstanceNorm2d(eps=0)", norm(lambda d: nn.InstanceNorm2d(3, eps=0.0, dtype=d), 2, 3, 4, 4)),
]
