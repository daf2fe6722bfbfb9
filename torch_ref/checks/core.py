"""The foundation's rows: Linear, the first activations, MSE/CE/BCE losses, SGD, Adam and AdamW."""

from __future__ import annotations

import numpy as np

from scratch import nn

from .kit import Check, activation, classes, loss_check, module_check, normal, optimizer_check, probabilities


def _mlp(dtype: np.dtype, rng: np.random.Generator) -> tuple[nn.Module, list]:
    model = nn.Sequential(nn.Linear(10, 16, dtype=dtype, rng=rng), nn.Tanh(), nn.Linear(16, 16, dtype=dtype, rng=rng),
                          nn.ReLU(), nn.Linear(16, 3, dtype=dtype, rng=rng), nn.LogSoftmax(dim=1))
    return model, [normal(rng, dtype, 8, 10)]



def _checks() -> list[Check]:
    checks = [
        module_check("Identity", activation(nn.Identity())),
        module_check("Flatten", lambda d, r: (nn.Flatten(), [normal(r, d, 4, 3, 5)])),
        module_check("Linear", lambda d, r: (nn.Linear(12, 7, dtype=d, rng=r), [normal(r, d, 16, 12)])),
        module_check("Linear(bias=False)", lambda d, r: (nn.Linear(12, 7, bias=False, dtype=d, rng=r),
                                                         [normal(r, d, 16, 12)])),
        module_check("Linear(3-D input)", lambda d, r: (nn.Linear(12, 7, dtype=d, rng=r), [normal(r, d, 4, 5, 12)])),
        module_check("ReLU", activation(nn.ReLU())),
        module_check("Sigmoid", activation(nn.Sigmoid())),
        module_check("Tanh", activation(nn.Tanh())),
        module_check("Softmax(dim=1)", activation(nn.Softmax(dim=1))),
        module_check("Softmax(dim=0)", activation(nn.Softmax(dim=0))),
        module_check("LogSoftmax(dim=1)", activation(nn.LogSoftmax(dim=1))),
        module_check("Sequential(MLP)", _mlp),
    ]
    for reduction in ("mean", "sum", "none"):
        checks += [
            loss_check(f"MSELoss({reduction})", lambda d, r, red=reduction: (
                nn.MSELoss(reduction=red), normal(r, d, 8, 5), normal(r, d, 8, 5))),
            loss_check(f"CrossEntropyLoss({reduction})", lambda d, r, red=reduction: (
                nn.CrossEntropyLoss(reduction=red), normal(r, d, 8, 5, scale=3), classes(r, 8))),
            loss_check(f"BCELoss({reduction})", lambda d, r, red=reduction: (
                nn.BCELoss(reduction=red), probabilities(r, d, 8, 5), probabilities(r, d, 8, 5))),
        ]
    checks += [
        loss_check("CrossEntropyLoss(weight,ignore_index,label_smoothing)", lambda d, r: (
            nn.CrossEntropyLoss(weight=r.uniform(0.5, 2, 5).astype(d), ignore_index=2, label_smoothing=0.1),
            normal(r, d, 8, 5, scale=3), classes(r, 8))),
        loss_check("CrossEntropyLoss(K-dim)", lambda d, r: (
            nn.CrossEntropyLoss(), normal(r, d, 4, 5, 3, 2, scale=3), classes(r, 4, 3, 2))),
        loss_check("CrossEntropyLoss(probabilities)", lambda d, r: (
            nn.CrossEntropyLoss(), normal(r, d, 8, 5, scale=3), probabilities(r, d, 8, 5))),
        loss_check("CrossEntropyLoss(logits=±1e4)", lambda d, r: (
            nn.CrossEntropyLoss(), normal(r, d, 8, 5, scale=1e4), classes(r, 8))),
        loss_check("BCELoss(weight)", lambda d, r: (
            nn.BCELoss(weight=r.uniform(0.5, 2, 5).astype(d)), probabilities(r, d, 8, 5), probabilities(r, d, 8, 5))),
        optimizer_check("SGD", "SGD", lr=0.1),
        optimizer_check("SGD(momentum,dampening,weight_decay)", "SGD", lr=0.1, momentum=0.9, dampening=0.1,
                        weight_decay=0.01),
        optimizer_check("SGD(nesterov,maximize)", "SGD", lr=0.1, momentum=0.9, nesterov=True, maximize=True),
        optimizer_check("Adam", "Adam", lr=0.01),
        optimizer_check("Adam(amsgrad,weight_decay)", "Adam", lr=0.01, amsgrad=True, weight_decay=0.1),
        optimizer_check("AdamW", "AdamW", lr=0.01),
        optimizer_check("AdamW(amsgrad,maximize)", "AdamW", lr=0.01, amsgrad=True, maximize=True),
    ]
    return checks



CHECKS = _checks()
