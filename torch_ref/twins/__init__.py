"""The torch twins of scratch's layers. Most need nothing here: the generic twin (``generic.py``) builds
torch.nn's class of the same name from the layer's options. The files here, named as in
``scratch.nn.modules``, hold the layers it cannot build: containers (their children are twins too),
dropouts and MultiheadAttention (the twin applies scratch's mask), the fractional max pools (the twin
replays scratch's random samples), the Transformer family (twinned children), NonDynamicallyQuantizableLinear
(not in torch.nn itself), and Embedding and PairwiseDistance (options they keep under other names).
"""

from . import attention, container, distance, dropout, pooling_fractional, sparse, transformer
from .registry import Twin, build_scratch, build_torch, register_all, register_twin

register_all([*container.TWINS, *distance.TWINS, *dropout.TWINS, *pooling_fractional.TWINS, *sparse.TWINS,
              *attention.TWINS, *transformer.TWINS])

__all__ = ["Twin", "build_scratch", "build_torch", "register_twin"]
