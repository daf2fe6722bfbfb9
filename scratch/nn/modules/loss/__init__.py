"""Loss modules, one file per kind of loss (the same files as ``scratch.nn.functional.loss``; ``adaptive``: the
adaptive softmax, a Module with its own loss, as torch's);
``_base`` holds the base classes."""

from typing import TYPE_CHECKING

from . import (
           adaptive,
           classification,
           ctc,
           linear_cross_entropy,
           margin,
           multilabel,
           probabilistic,
           regression,
           triplet,
)
from .adaptive import *  # noqa: F403
from .classification import *  # noqa: F403
from .ctc import *  # noqa: F403
from .linear_cross_entropy import *  # noqa: F403
from .margin import *  # noqa: F403
from .multilabel import *  # noqa: F403
from .probabilistic import *  # noqa: F403
from .regression import *  # noqa: F403
from .triplet import *  # noqa: F403

# mypy reads only a literal __all__, so it sees the star imports above (the same names) instead
if not TYPE_CHECKING:
    __all__ = [*regression.__all__, *classification.__all__, *probabilistic.__all__, *margin.__all__,
               *multilabel.__all__, *triplet.__all__, *ctc.__all__,
               *linear_cross_entropy.__all__, *adaptive.__all__]
