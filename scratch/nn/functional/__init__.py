"""Pure forward/backward pairs, one per op: ``op_forward(...) -> (out, cache)`` and
``op_backward(dout, cache) -> grads``. Modules are thin stateful wrappers around them.

One file per family, the same files as ``scratch.nn.modules``; each lists its pairs in ``__all__``,
and this package re-exports them all.
"""

from . import (
    activation,
    activation_composite,
    activation_piecewise,
    attention,
    conv,
    distance,
    dropout,
    flatten,
    linear,
    loss,
    normalization,
    pooling,
    rnn,
    sparse,
)
from .activation import *  # noqa: F403
from .activation_composite import *  # noqa: F403
from .activation_piecewise import *  # noqa: F403
from .attention import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403

__all__ = [
    *activation.__all__, *activation_composite.__all__, *activation_piecewise.__all__, *attention.__all__,
    *conv.__all__, *distance.__all__, *dropout.__all__, *flatten.__all__, *linear.__all__,
    *loss.__all__, *normalization.__all__, *pooling.__all__, *rnn.__all__, *sparse.__all__,
]
