"""scratch.nn: layers, losses and containers mirroring ``torch.nn``."""

from . import functional, init, modules, utils
from .modules import *  # noqa: F403
from .parameter import Parameter, UninitializedBuffer, UninitializedParameter

__all__ = [*modules.__all__, "Parameter", "UninitializedBuffer", "UninitializedParameter", "functional", "init",
           "utils"]
