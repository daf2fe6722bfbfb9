"""scratch.nn: layers, losses and containers mirroring ``torch.nn``."""

from typing import TYPE_CHECKING

from . import functional as functional
from . import init as init
from . import modules as modules
from . import utils as utils
from .modules import *  # noqa: F403
from .parameter import Parameter as Parameter
from .parameter import UninitializedBuffer as UninitializedBuffer
from .parameter import UninitializedParameter as UninitializedParameter

# mypy reads only a literal __all__, so it sees the star imports above (the same names) instead
if not TYPE_CHECKING:
    __all__ = [*modules.__all__, "Parameter", "UninitializedBuffer", "UninitializedParameter", "functional", "init",
               "utils"]
