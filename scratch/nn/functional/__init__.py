"""Pure forward/backward pairs, one per op: ``op_forward(...) -> (out, cache)`` and
``op_backward(dout, cache) -> grads``. Modules are thin stateful wrappers around them.

Each family file lists its public pairs in ``__all__``; this package re-exports them all.
"""

from . import activation, linear, loss, margin_loss, probabilistic_loss, regression_loss
from .activation import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .margin_loss import *  # noqa: F403
from .probabilistic_loss import *  # noqa: F403
from .regression_loss import *  # noqa: F403

__all__ = (activation.__all__ + linear.__all__ + loss.__all__ + margin_loss.__all__ + probabilistic_loss.__all__
           + regression_loss.__all__)
