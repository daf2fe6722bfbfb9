"""scratch.nn.utils: helpers around modules and their gradients, mirroring ``torch.nn.utils``."""

from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__: list[str] = ["clip_grad_norm_", "clip_grad_value_"]
