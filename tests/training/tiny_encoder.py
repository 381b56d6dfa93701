"""Sizes of the throw-away BERT-family encoders that module-level training tests build from a config."""

from __future__ import annotations

#: Small enough to build in milliseconds, with several heads and padding-length sequences.
TINY_ENCODER = {
    "vocab_size": 120,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "max_position_embeddings": 40,
}
