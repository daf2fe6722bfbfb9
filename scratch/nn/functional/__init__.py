"""Pure forward/backward pairs, one per op: ``op_forward(...) -> (out, cache)`` and
``op_backward(dout, cache) -> grads``. Modules are thin stateful wrappers around them.

One file per family, the same files as ``scratch.nn.modules``; each lists its pairs in ``__all__``,
and this package re-exports them all.
"""

from typing import TYPE_CHECKING

from . import (
    activation,
    activation_composite,
    activation_piecewise,
    attention,
    channelshuffle,
    conv,
    distance,
    dropout,
    flatten,
    fold,
    instancenorm,
    linear,
    local_response_norm,
    loss,
    normalization,
    padding,
    pixelshuffle,
    pooling,
    pooling_adaptive,
    pooling_fractional,
    rnn,
    rnn_cell,
    rnn_packed,
    softmax,
    sparse,
    upsampling,
)
from .activation import *  # noqa: F403
from .activation_composite import *  # noqa: F403
from .activation_piecewise import *  # noqa: F403
from .attention import *  # noqa: F403
from .channelshuffle import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .fold import *  # noqa: F403
from .instancenorm import *  # noqa: F403
from .linear import *  # noqa: F403
from .local_response_norm import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .pixelshuffle import *  # noqa: F403
from .pooling import *  # noqa: F403
from .pooling_adaptive import *  # noqa: F403
from .pooling_fractional import *  # noqa: F403
from .rnn import *  # noqa: F403
from .rnn_cell import *  # noqa: F403
from .rnn_packed import *  # noqa: F403
from .softmax import *  # noqa: F403
from .sparse import *  # noqa: F403
from .upsampling import *  # noqa: F403

# mypy reads only a literal __all__, so it sees the star imports above (the same names) instead
if not TYPE_CHECKING:
    __all__ = [
        *activation.__all__, *activation_composite.__all__, *activation_piecewise.__all__, *attention.__all__,
        *channelshuffle.__all__, *conv.__all__, *distance.__all__, *dropout.__all__, *flatten.__all__, *fold.__all__,
        *instancenorm.__all__, *linear.__all__, *local_response_norm.__all__, *loss.__all__, *normalization.__all__,
        *padding.__all__, *pixelshuffle.__all__, *pooling.__all__, *pooling_adaptive.__all__,
        *pooling_fractional.__all__, *rnn.__all__, *rnn_cell.__all__, *rnn_packed.__all__, *softmax.__all__,
        *sparse.__all__, *upsampling.__all__,
    ]
