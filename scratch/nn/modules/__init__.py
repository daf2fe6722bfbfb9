"""Layers, losses and containers, one file per family; each file lists its classes in ``__all__``."""

from . import activation, container, flatten, linear, loss, margin_loss, module
from .activation import *  # noqa: F403
from .container import *  # noqa: F403
from .flatten import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .margin_loss import *  # noqa: F403
from .module import *  # noqa: F403

__all__ = (activation.__all__ + container.__all__ + flatten.__all__ + linear.__all__ + loss.__all__
           + margin_loss.__all__ + module.__all__)
