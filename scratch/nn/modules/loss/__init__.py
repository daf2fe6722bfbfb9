"""Loss modules, one file per kind of loss (the same files as ``scratch.nn.functional.loss``);
``_base`` holds the base classes."""


from . import classification, margin, probabilistic, regression
from .classification import *  # noqa: F403
from .margin import *  # noqa: F403
from .probabilistic import *  # noqa: F403
from .regression import *  # noqa: F403

__all__ = [*regression.__all__, *classification.__all__, *probabilistic.__all__, *margin.__all__]
