"""Twins of the foundation's layers and losses: (scratch class, torch class, to_torch, from_torch).

Each ``to_torch`` factory builds the torch module's architecture from the scratch module's
options, and each ``from_torch`` the reverse; ``torch_ref.convert`` copies the weights after.
"""

from __future__ import annotations

import numpy as np
import torch

from scratch import nn

from .types import TwinRow

T = torch.nn


def weight_tensor(module: nn.Module) -> torch.Tensor | None:
    """A loss's ``weight`` buffer as a torch tensor, copied so the twins never alias it."""
    return None if module.weight is None else torch.tensor(np.asarray(module.weight))


def weight_array(module: torch.nn.Module) -> np.ndarray | None:
    """The reverse: a torch loss's ``weight`` as a NumPy array."""
    return None if module.weight is None else module.weight.detach().numpy()


PAIRS: list[TwinRow] = [
    (nn.Identity, T.Identity, lambda m: T.Identity(), lambda t: nn.Identity()),
    (nn.Linear, T.Linear, lambda m: T.Linear(m.in_features, m.out_features, bias=m.bias is not None),
     lambda t: nn.Linear(t.in_features, t.out_features, bias=t.bias is not None)),
    (nn.Flatten, T.Flatten, lambda m: T.Flatten(m.start_dim, m.end_dim),
     lambda t: nn.Flatten(t.start_dim, t.end_dim)),
    (nn.ReLU, T.ReLU, lambda m: T.ReLU(m.inplace), lambda t: nn.ReLU(t.inplace)),
    (nn.Sigmoid, T.Sigmoid, lambda m: T.Sigmoid(), lambda t: nn.Sigmoid()),
    (nn.Tanh, T.Tanh, lambda m: T.Tanh(), lambda t: nn.Tanh()),
    (nn.Softmax, T.Softmax, lambda m: T.Softmax(m.dim), lambda t: nn.Softmax(t.dim)),
    (nn.LogSoftmax, T.LogSoftmax, lambda m: T.LogSoftmax(m.dim), lambda t: nn.LogSoftmax(t.dim)),
    (nn.MSELoss, T.MSELoss, lambda m: T.MSELoss(reduction=m.reduction),
     lambda t: nn.MSELoss(reduction=t.reduction)),
    (nn.CrossEntropyLoss, T.CrossEntropyLoss,
     lambda m: T.CrossEntropyLoss(weight_tensor(m), ignore_index=m.ignore_index, reduction=m.reduction,
                                  label_smoothing=m.label_smoothing),
     lambda t: nn.CrossEntropyLoss(weight_array(t),
                                   ignore_index=t.ignore_index, reduction=t.reduction,
                                   label_smoothing=t.label_smoothing)),
    (nn.BCELoss, T.BCELoss, lambda m: T.BCELoss(weight_tensor(m), reduction=m.reduction),
     lambda t: nn.BCELoss(weight_array(t), reduction=t.reduction)),
]
