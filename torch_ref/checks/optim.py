"""The optimizers beyond the foundation's: RMSprop, Adagrad, Adadelta, NAdam, RAdam."""

from __future__ import annotations

from .kit import Check, optimizer_check

CHECKS: list[Check] = [
    optimizer_check("RMSprop", "RMSprop"),
    optimizer_check("RMSprop(momentum,weight_decay)", "RMSprop", momentum=0.9, weight_decay=0.1),
    optimizer_check("RMSprop(centered,maximize)", "RMSprop", centered=True, maximize=True, alpha=0.9),
    optimizer_check("Adagrad", "Adagrad", lr=0.1),
    optimizer_check("Adagrad(lr_decay,initial_accumulator_value)", "Adagrad", lr=0.1, lr_decay=0.05,
                    initial_accumulator_value=0.1),
    optimizer_check("Adagrad(weight_decay,maximize)", "Adagrad", lr=0.1, weight_decay=0.1, maximize=True),
    optimizer_check("Adadelta", "Adadelta"),
    optimizer_check("Adadelta(rho,weight_decay,maximize)", "Adadelta", rho=0.5, weight_decay=0.1, maximize=True),
    optimizer_check("NAdam", "NAdam", lr=0.01),
    optimizer_check("NAdam(weight_decay,momentum_decay)", "NAdam", lr=0.01, weight_decay=0.1, momentum_decay=0.01),
    optimizer_check("NAdam(decoupled_weight_decay,maximize)", "NAdam", lr=0.01, weight_decay=0.1,
                    decoupled_weight_decay=True, maximize=True),
    optimizer_check("RAdam", "RAdam", lr=0.01),
    optimizer_check("RAdam(weight_decay,maximize)", "RAdam", lr=0.01, weight_decay=0.1, maximize=True),
    optimizer_check("RAdam(decoupled_weight_decay)", "RAdam", lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
]
