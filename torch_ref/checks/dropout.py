"""Rows for Dropout and Dropout2d: the torch twin applies the scratch module's last mask (see
``torch_ref.twins.dropout``), so train mode is compared with identical masks."""

from __future__ import annotations

from typing import Any

from scratch import nn

from .kit import Check, Make, module_check, normal


def _make(cls: type, shape: tuple[int, ...], training: bool = True, **options: Any) -> Make:
    """A fresh module, its masks drawn from the row's ``rng``, in train or eval mode, on a normal input."""
    return lambda d, r: (cls(**options, rng=r).train(training), [normal(r, d, *shape)])


CHECKS: list[Check] = [
    module_check("Dropout(train)", _make(nn.Dropout, (8, 12), p=0.3)),
    module_check("Dropout(train,inplace)", _make(nn.Dropout, (4, 5, 6), inplace=True)),
    module_check("Dropout(eval)", _make(nn.Dropout, (8, 12), training=False, p=0.3)),
    module_check("Dropout2d(train)", _make(nn.Dropout2d, (4, 6, 3, 5), p=0.4)),
    module_check("Dropout2d(eval)", _make(nn.Dropout2d, (4, 6, 3, 5), training=False, p=0.4)),
]
