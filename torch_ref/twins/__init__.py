"""The built-in twin tables, one module per family; ``torch_ref.convert`` registers them all."""

from . import activation, core, loss
from .types import TwinRow

TWINS: list[TwinRow] = core.PAIRS + activation.PAIRS + loss.PAIRS
