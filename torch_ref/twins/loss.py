"""Twins of the loss family beyond the foundation's."""

from __future__ import annotations

import numpy as np
import torch

from scratch import nn

from .core import weight_array, weight_tensor
from .types import TwinRow

T = torch.nn


def _pos_weight_tensor(module: nn.Module) -> torch.Tensor | None:
    return None if module.pos_weight is None else torch.tensor(np.asarray(module.pos_weight))


def _pos_weight_array(module: torch.nn.Module) -> np.ndarray | None:
    return None if module.pos_weight is None else module.pos_weight.detach().numpy()


PAIRS: list[TwinRow] = [
    (nn.L1Loss, T.L1Loss, lambda m: T.L1Loss(reduction=m.reduction), lambda t: nn.L1Loss(reduction=t.reduction)),
    (nn.HuberLoss, T.HuberLoss, lambda m: T.HuberLoss(reduction=m.reduction, delta=m.delta),
     lambda t: nn.HuberLoss(reduction=t.reduction, delta=t.delta)),
    (nn.SmoothL1Loss, T.SmoothL1Loss, lambda m: T.SmoothL1Loss(reduction=m.reduction, beta=m.beta),
     lambda t: nn.SmoothL1Loss(reduction=t.reduction, beta=t.beta)),
    (nn.NLLLoss, T.NLLLoss,
     lambda m: T.NLLLoss(weight_tensor(m), ignore_index=m.ignore_index, reduction=m.reduction),
     lambda t: nn.NLLLoss(weight_array(t), ignore_index=t.ignore_index, reduction=t.reduction)),
    (nn.BCEWithLogitsLoss, T.BCEWithLogitsLoss,
     lambda m: T.BCEWithLogitsLoss(weight_tensor(m), reduction=m.reduction, pos_weight=_pos_weight_tensor(m)),
     lambda t: nn.BCEWithLogitsLoss(weight_array(t), reduction=t.reduction, pos_weight=_pos_weight_array(t))),
    (nn.KLDivLoss, T.KLDivLoss, lambda m: T.KLDivLoss(reduction=m.reduction, log_target=m.log_target),
     lambda t: nn.KLDivLoss(reduction=t.reduction, log_target=t.log_target)),
    (nn.MultiMarginLoss, T.MultiMarginLoss,
     lambda m: T.MultiMarginLoss(m.p, m.margin, weight_tensor(m), reduction=m.reduction),
     lambda t: nn.MultiMarginLoss(t.p, t.margin, weight_array(t), reduction=t.reduction)),
    (nn.HingeEmbeddingLoss, T.HingeEmbeddingLoss, lambda m: T.HingeEmbeddingLoss(m.margin, reduction=m.reduction),
     lambda t: nn.HingeEmbeddingLoss(t.margin, reduction=t.reduction)),
    (nn.SoftMarginLoss, T.SoftMarginLoss, lambda m: T.SoftMarginLoss(reduction=m.reduction),
     lambda t: nn.SoftMarginLoss(reduction=t.reduction)),
    (nn.CosineEmbeddingLoss, T.CosineEmbeddingLoss, lambda m: T.CosineEmbeddingLoss(m.margin, reduction=m.reduction),
     lambda t: nn.CosineEmbeddingLoss(t.margin, reduction=t.reduction)),
]
