"""Pure forward/backward pairs, one per op: ``op_forward(...) -> (out, cache)`` and
``op_backward(dout, cache) -> grads``. Modules are thin stateful wrappers around them.

Each family file lists its public pairs in ``__all__``; this package re-exports them all.
"""

from . import (
    activation,
    conv,
    dropout,
    linear,
    loss,
    margin_loss,
    normalization,
    pooling,
    probabilistic_loss,
    regression_loss,
    rnn,
    rnn_cells,
    sparse,
)
from .activation import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .margin_loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .probabilistic_loss import *  # noqa: F403
from .regression_loss import *  # noqa: F403
from .rnn import *  # noqa: F403
from .rnn_cells import *  # noqa: F403
from .sparse import *  # noqa: F403

__all__ = [
    *activation.__all__, *conv.__all__, *dropout.__all__, *linear.__all__, *loss.__all__, *margin_loss.__all__,
    *normalization.__all__, *pooling.__all__, *probabilistic_loss.__all__, *regression_loss.__all__, *rnn.__all__,
    *rnn_cells.__all__, *sparse.__all__
]
