"""Layers, losses and containers, one file per family (the same files as ``scratch.nn.functional``,
plus ``module``, ``container`` and ``parameter_containers``, and ``transformer`` with its layers in
``transformer_layers``); each file lists its classes in ``__all__``."""

from . import (
    activation,
    activation_composite,
    activation_piecewise,
    attention,
    container,
    conv,
    distance,
    dropout,
    flatten,
    linear,
    loss,
    module,
    normalization,
    parameter_containers,
    pooling,
    rnn,
    sparse,
    transformer,
)
from .activation import *  # noqa: F403
from .activation_composite import *  # noqa: F403
from .activation_piecewise import *  # noqa: F403
from .attention import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import *  # noqa: F403
from .normalization import *  # noqa: F403
from .parameter_containers import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .transformer import *  # noqa: F403

__all__ = [
    *activation.__all__, *activation_composite.__all__, *activation_piecewise.__all__, *attention.__all__,
    *container.__all__, *conv.__all__, *distance.__all__, *dropout.__all__, *flatten.__all__,
    *linear.__all__, *loss.__all__, *module.__all__, *normalization.__all__, *parameter_containers.__all__,
    *pooling.__all__, *rnn.__all__, *sparse.__all__, *transformer.__all__,
]
