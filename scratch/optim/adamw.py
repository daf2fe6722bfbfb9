"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay."""

from __future__ import annotations

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    r"""Adam with decoupled weight decay: each step first shrinks the weights,
    ``θ ← θ (1 - γ λ)``, then applies Adam's update to the undecayed gradient (see ``Adam``
    for the pseudocode). As in torch, it is ``Adam(decoupled_weight_decay=True)`` with a
    default ``weight_decay`` of 1e-2.

    It takes Adam's flat path (see ``Adam``): a group of small parameters of one dtype is updated as
    one flat array, decay included, bit-identical to per-parameter updates, and ``opt.state[p]``'s
    arrays then become views into the group's flat buffers.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
