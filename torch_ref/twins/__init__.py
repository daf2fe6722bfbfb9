"""The torch twins of scratch's layers. Most need nothing here: the generic twin (``generic.py``) builds
torch.nn's class of the same name from the layer's options. The files here, named as in
``scratch.nn.modules``, hold the layers it cannot build: containers (their children are twins too),
dropouts, RReLU and MultiheadAttention (the twin applies scratch's mask or slopes), the fractional max pools
(the twin replays scratch's random samples), the Transformer family (twinned children),
NonDynamicallyQuantizableLinear (not in torch.nn itself), Embedding, PairwiseDistance and
AdaptiveLogSoftmaxWithLoss (options they keep under other names) and TripletMarginWithDistanceLoss (its distance);
swa.py: scratch.optim.swa_utils' AveragedModel.
"""

from . import (
    activation_piecewise,
    attention,
    container,
    distance,
    dropout,
    loss,
    pooling_fractional,
    sparse,
    swa,
    transformer,
)
from .registry import Twin, build_scratch, build_torch, register_all, register_twin

register_all([*activation_piecewise.TWINS, *container.TWINS, *distance.TWINS, *dropout.TWINS, *loss.TWINS,
              *pooling_fractional.TWINS, *sparse.TWINS, *attention.TWINS, *transformer.TWINS,
              *swa.TWINS])

__all__ = ["Twin", "build_scratch", "build_torch", "register_twin"]
