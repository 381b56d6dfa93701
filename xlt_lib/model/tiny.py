"""A tiny random encoder with the real tokenizer, for fast tests of everything above the model.

Tests of data, training and runs need a model that behaves like the real one at
the interfaces (same architecture family, same 250k-piece tokenizer, same special
token ids, safetensors on disk) but trains in milliseconds. Its weights are random
and deterministic given the seed, so two builds are byte-identical.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from xlt_lib.errors import ModelError
from xlt_lib.model.loading import load_tokenizer, resolve_model

TINY_MARKER = "xlt_tiny_model.json"
# Files that make up a saved tokenizer; copied verbatim from a local source folder
# (loading and re-saving would add loader arguments such as local_files_only to the config).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "sentencepiece.bpe.model",
)


def build_tiny_model(
    out_dir: Path,
    tokenizer_source: Path | str,
    num_layers: int = 2,
    hidden_size: int = 32,
    num_heads: int = 2,
    intermediate_size: int = 64,
    seed: int = 0,
) -> Path:
    """Save a randomly initialised ``BertModel`` with ``tokenizer_source``'s tokenizer into ``out_dir``.

    ``tokenizer_source`` is a model folder or name (anything `resolve_model`
    accepts); its config, when present, supplies the vocabulary size, the special
    token ids and the position limit so that the tiny model accepts every id the
    tokenizer produces. The global torch RNG is left untouched.
    """
    import torch
    from transformers import AutoConfig, BertConfig, BertModel

    if hidden_size % num_heads:
        raise ModelError(f"tiny model: hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
    source = resolve_model(str(tokenizer_source))
    source_config_path = Path(source, "config.json")
    if source_config_path.is_file():
        # A model folder: its config has the vocabulary size and special ids; loading the
        # 250k-piece tokenizer just to count it would cost seconds per build.
        source_config = AutoConfig.from_pretrained(source)
        vocab_size = source_config.vocab_size
        max_positions = getattr(source_config, "max_position_embeddings", 512)
        special: dict[str, Any] = {
            key: getattr(source_config, key, None) for key in ("pad_token_id", "bos_token_id", "eos_token_id")
        }
        tokenizer = None
    else:
        tokenizer = load_tokenizer(source)
        vocab_size, max_positions = len(tokenizer), 512
        special = {
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
        type_vocab_size=2,
        **special,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    copied = [name for name in TOKENIZER_FILES if Path(source, name).is_file()]
    for name in copied:
        shutil.copyfile(Path(source, name), out_dir / name)
    if not copied:  # a hub id or a folder without tokenizer files: save what loads
        (tokenizer or load_tokenizer(source)).save_pretrained(str(out_dir))
    marker = {
        "kind": "tiny-random",
        "seed": seed,
        "tokenizer_source": str(source),
        "num_layers": num_layers,
        "hidden_size": hidden_size,
        "num_heads": num_heads,
        "intermediate_size": intermediate_size,
    }
    (out_dir / TINY_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return out_dir
