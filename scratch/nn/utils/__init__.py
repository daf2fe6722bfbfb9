"""scratch.nn.utils: helpers around modules and their gradients, mirroring ``torch.nn.utils``."""

from . import rnn
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__: list[str] = ["AnomalyError", "clip_grad_norm_", "clip_grad_value_", "detect_anomaly", "is_anomaly_enabled",
                      "rnn"]
