"""Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout: the torch twin applies the scratch module's
last mask (see ``torch_ref.twins.dropout``), so train mode is compared with identical masks."""

from __future__ import annotations

from typing import Any

from scratch import nn

from .case import Case, Make, module_case
from .data import normal


def _make(cls: type, shape: tuple[int, ...], training: bool = True, **options: Any) -> Make:
    """A fresh module, its masks drawn from the case's ``rng``, in train or eval mode, on a normal input."""
    return lambda d, r: (cls(**options, rng=r).train(training), [normal(r, d, *shape)])


def _global_rng(dtype: Any, rng: Any) -> tuple[nn.Module, list]:
    """No ``rng``: the mask comes from scratch's global generator, and the twin still replays it."""
    return nn.Dropout2d(0.5), [normal(rng, dtype, 4, 6, 3, 5)]


CASES: list[Case] = [
    module_case("Dropout(train)", _make(nn.Dropout, (8, 12), p=0.3)),
    module_case("Dropout(train,default p,3-D)", _make(nn.Dropout, (4, 5, 6))),
    module_case("Dropout(train,0-D)", _make(nn.Dropout, (), p=0.2)),
    module_case("Dropout(train,inplace)", _make(nn.Dropout, (4, 5, 6), inplace=True)),
    module_case("Dropout(train,p=0)", _make(nn.Dropout, (8, 12), p=0.0)),
    module_case("Dropout(train,p=0.9)", _make(nn.Dropout, (16, 12), p=0.9)),
    module_case("Dropout(eval)", _make(nn.Dropout, (8, 12), training=False, p=0.3)),
    module_case("Dropout(eval,inplace)", _make(nn.Dropout, (8, 12), training=False, p=0.3, inplace=True)),
    module_case("Dropout2d(train)", _make(nn.Dropout2d, (4, 6, 3, 5), p=0.4)),
    module_case("Dropout2d(train,inplace)", _make(nn.Dropout2d, (4, 6, 3, 5), p=0.5, inplace=True)),
    module_case("Dropout2d(eval)", _make(nn.Dropout2d, (4, 6, 3, 5), training=False, p=0.4)),
    module_case("Dropout2d(train,global generator)", _global_rng),
    module_case("Dropout1d(train)", _make(nn.Dropout1d, (4, 6, 5), p=0.4)),
    module_case("Dropout1d(train,unbatched)", _make(nn.Dropout1d, (6, 5), p=0.4)),
    module_case("Dropout1d(train,inplace)", _make(nn.Dropout1d, (4, 6, 5), inplace=True)),
    module_case("Dropout1d(eval)", _make(nn.Dropout1d, (4, 6, 5), training=False)),
    module_case("Dropout3d(train)", _make(nn.Dropout3d, (3, 5, 2, 3, 2), p=0.4)),
    module_case("Dropout3d(train,unbatched)", _make(nn.Dropout3d, (5, 2, 3, 2), p=0.4)),
    module_case("Dropout3d(train,inplace)", _make(nn.Dropout3d, (3, 5, 2, 3, 2), inplace=True)),
    module_case("Dropout3d(eval)", _make(nn.Dropout3d, (3, 5, 2, 3, 2), training=False)),
    module_case("AlphaDropout(train)", _make(nn.AlphaDropout, (8, 12), p=0.3)),
    module_case("AlphaDropout(train,default p,3-D,inplace ignored)", _make(nn.AlphaDropout, (4, 5, 6), inplace=True)),
    module_case("AlphaDropout(train,p=0.9)", _make(nn.AlphaDropout, (16, 12), p=0.9)),
    module_case("AlphaDropout(train,p=0)", _make(nn.AlphaDropout, (8, 12), p=0.0)),
    module_case("AlphaDropout(eval)", _make(nn.AlphaDropout, (8, 12), training=False, p=0.3)),
    module_case("FeatureAlphaDropout(train)", _make(nn.FeatureAlphaDropout, (4, 6, 3, 5), p=0.4)),
    module_case("FeatureAlphaDropout(train,(N,C))", _make(nn.FeatureAlphaDropout, (8, 6), p=0.2)),
    module_case("FeatureAlphaDropout(train,5-D)", _make(nn.FeatureAlphaDropout, (2, 4, 2, 3, 2))),
    module_case("FeatureAlphaDropout(eval)", _make(nn.FeatureAlphaDropout, (4, 6, 3, 5), training=False, p=0.4)),
]
