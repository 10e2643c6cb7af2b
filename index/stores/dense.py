"""The embedded store's dense leg: passage vectors in FAISS, by passage id.

Exact (``IndexFlatIP``) up to ``approximate_above`` passages, then IVF (``IndexIVFFlat``, a
share of its lists probed). Not thread-safe: the store serialises access.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from index.stores.base import Matrix, Vector, unpack_vector

__all__ = ["EXACT_FILTERED", "DenseIndex", "catch_up", "load_dense"]

# FAISS's SWIG classes take keyword arguments its type stubs do not declare.
_faiss: Any = faiss

# A filter that lets fewer passages through than this is searched exactly, whatever the index:
# an IVF's probed lists may hold none of them.
EXACT_FILTERED = 50_000


class DenseIndex:
    """The passage vectors in FAISS by passage id, and how far the database has been read."""

    def __init__(self, dim: int, approximate_above: int) -> None:
        self.dim = dim
        self.approximate_above = approximate_above
        self.index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.generation = -1  # the database generation this index reflects
        self.max_id = 0  # the largest passage id read
        self.nprobe = 1

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexIVF)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: npt.NDArray[np.int64], vectors: Matrix) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, np.float32), ids)
            self.max_id = max(self.max_id, int(ids.max()))

    def remove(self, ids: npt.NDArray[np.int64]) -> None:
        if len(ids):
            self.index.remove_ids(np.ascontiguousarray(ids, np.int64))

    def ids(self) -> npt.NDArray[np.int64]:
        """Every passage id held, ascending."""
        if self.approximate:
            invlists = self.index.invlists
            parts = [
                faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                for i in range(self.index.nlist)
                if invlists.list_size(i)
            ]
            found = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        else:
            found = faiss.vector_to_array(self.index.id_map)
        return np.sort(found.astype(np.int64))

    def search(
        self, query: Vector, k: int, allowed: npt.NDArray[np.int64] | None
    ) -> npt.NDArray[np.int64]:
        """The ids of the ``k`` nearest passages (among ``allowed`` when given)."""
        if self.size == 0 or k <= 0:
            return np.zeros(0, np.int64)
        x = np.ascontiguousarray(query.reshape(1, -1), np.float32)
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, np.int64)
            if len(allowed) <= EXACT_FILTERED:
                vectors = self.index.reconstruct_batch(allowed)
                order = np.argsort(-(vectors @ query), kind="stable")[:k]
                return allowed[order]
            selector = faiss.IDSelectorBatch(allowed)
            if self.approximate:
                params: Any = _faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            else:
                params = _faiss.SearchParameters(sel=selector)
            _, found = self.index.search(x, min(k, self.size), params=params)
        elif self.approximate:
            params = _faiss.SearchParametersIVF(nprobe=self.nprobe)
            _, found = self.index.search(x, min(k, self.size), params=params)
        else:
            _, found = self.index.search(x, min(k, self.size))
        return found[0][found[0] >= 0].astype(np.int64)

    def rebuilt(self, ids: npt.NDArray[np.int64], vectors: Matrix) -> DenseIndex:
        """A new index of these vectors: exact, or IVF above ``approximate_above``."""
        fresh = DenseIndex(self.dim, self.approximate_above)
        if len(ids) > self.approximate_above:
            nlist = int(min(65_536, max(16, 4 * math.sqrt(len(ids)))))
            quantizer = faiss.IndexFlatIP(self.dim)
            ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.cp.max_points_per_centroid = 64  # train on a sample: minutes otherwise
            ivf.train(np.ascontiguousarray(vectors, np.float32))
            ivf.set_direct_map_type(_faiss.DirectMap.Hashtable)
            fresh.index = ivf
            # A tenth of the lists: recall@10 0.961 at 1M passages, 0.945 with a sixteenth
            # (python -m bench.scale).
            fresh.nprobe = max(8, nlist // 10)
        fresh.add(ids, vectors)
        return fresh


def load_dense(db: sqlite3.Connection, dim: int, approximate_above: int) -> DenseIndex:
    """Every passage vector of the database, in a new index."""
    count = db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    ids = np.zeros(count, np.int64)
    vectors = np.zeros((count, dim), np.float32)
    for n, (passage_id, blob) in enumerate(
        db.execute("SELECT id, vector FROM passages ORDER BY id")
    ):
        if n >= count:  # written meanwhile: caught up later
            break
        ids[n] = passage_id
        vectors[n] = unpack_vector(blob)
    dense = DenseIndex(dim, approximate_above).rebuilt(ids, vectors)
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'passages'").fetchone()
    dense.max_id = max(dense.max_id, int(row[0]) if row else 0)
    return dense


def catch_up(dense: DenseIndex, db: sqlite3.Connection) -> None:
    """Apply what other processes wrote since ``dense.generation``: removed passage ids are
    logged by generation, and added ones are those above ``dense.max_id`` (ids only grow)."""
    removed = [
        r[0]
        for r in db.execute(
            "SELECT passage_id FROM removed WHERE generation > ?", (dense.generation,)
        )
    ]
    dense.remove(np.array(removed, np.int64))
    rows = db.execute(
        "SELECT id, vector FROM passages WHERE id > ? ORDER BY id", (dense.max_id,)
    ).fetchall()
    if rows:
        dense.add(
            np.array([r[0] for r in rows], np.int64), np.vstack([unpack_vector(r[1]) for r in rows])
        )
