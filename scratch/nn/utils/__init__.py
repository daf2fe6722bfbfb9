"""scratch.nn.utils: helpers around modules and their gradients, mirroring ``torch.nn.utils``."""

__all__: list[str] = []
