"""MultiheadAttention and the Transformer family: self- and cross-attention, attention dropout (the twin
replays scratch's masks), pre- and post-norm layers, and the stacks. Masks, GQA and the corners of
scaled_dot_product_attention are in parity_tests/test_attention.py and test_scaled_dot_product_attention.py."""

from __future__ import annotations

from scratch import nn

from .case import Case, module_case
from .data import normal

CASES: list[Case] = [
    module_case("MultiheadAttention(8,2,dropout=0.2,add_bias_kv)", lambda d, r: (
        nn.MultiheadAttention(8, 2, dropout=0.2, add_bias_kv=True, dtype=d, rng=r),
        [normal(r, d, 5, 3, 8), normal(r, d, 4, 3, 8), normal(r, d, 4, 3, 8)])),
    module_case("MultiheadAttention(kdim,vdim,batch_first)", lambda d, r: (
        nn.MultiheadAttention(8, 4, kdim=6, vdim=5, batch_first=True, dtype=d, rng=r),
        [normal(r, d, 3, 5, 8), normal(r, d, 3, 4, 6), normal(r, d, 3, 4, 5)])),
    module_case("TransformerEncoderLayer", lambda d, r: (
        nn.TransformerEncoderLayer(8, 2, 16, dtype=d, rng=r), [normal(r, d, 5, 3, 8)])),
    module_case("TransformerDecoderLayer(norm_first)", lambda d, r: (
        nn.TransformerDecoderLayer(8, 2, 16, norm_first=True, dtype=d, rng=r),
        [normal(r, d, 5, 3, 8), normal(r, d, 4, 3, 8)])),
    module_case("TransformerEncoder(2 layers)", lambda d, r: (
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dtype=d, rng=r), 2, enable_nested_tensor=False),
        [normal(r, d, 5, 3, 8)])),
    module_case("TransformerDecoder(2 layers,norm)", lambda d, r: (
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dtype=d, rng=r), 2, nn.LayerNorm(8, dtype=d)),
        [normal(r, d, 5, 3, 8), normal(r, d, 4, 3, 8)])),
    module_case("Transformer(batch_first)", lambda d, r: (
        nn.Transformer(8, 2, 1, 1, 16, batch_first=True, dtype=d, rng=r),
        [normal(r, d, 3, 5, 8), normal(r, d, 3, 4, 8)])),
]
