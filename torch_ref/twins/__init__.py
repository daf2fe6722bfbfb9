"""The built-in twin tables, one module per family; ``torch_ref.convert`` registers them all."""

from . import activation, conv, core, dropout, loss, normalization, pooling, rnn, sparse
from .types import TwinRow

TWINS: list[TwinRow] = [
    *core.PAIRS, *activation.PAIRS, *loss.PAIRS, *conv.PAIRS, *pooling.PAIRS, *normalization.PAIRS,
    *dropout.PAIRS, *sparse.PAIRS, *rnn.PAIRS,
]
