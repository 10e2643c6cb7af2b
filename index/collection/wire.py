"""Wire copies: the same agency story republished by several outlets, lightly edited.

An article's fingerprint is the set of its word 5-grams ("shingles"), lower-cased, accents and
punctuation kept out of the way. Two articles are copies when the smaller one's shingles are
mostly in the larger one (containment): a copy with a new headline, reordered paragraphs,
added credits and captions, another date line or a cut ending keeps most of its 5-grams, while
a follow-up story that reuses one background paragraph does not. ``python -m bench.wire``
measures precision and recall on a labelled set built from real articles.

``WireIndex`` finds the candidates among thousands of articles without comparing them all:
MinHash signatures (datasketch) in an LSH index, 128 permutations; containment is estimated
from the signatures' Jaccard similarity and the two shingle counts, so no text is kept.

>>> a = shingles("Le volcan est entré en éruption dans la nuit de lundi à mardi, selon l'observatoire.")
>>> b = shingles("PARIS (AFP) - Le volcan est entré en éruption dans la nuit de lundi à mardi.")
>>> round(containment(a, b), 2)
0.82
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "COPY_CONTAINMENT",
    "WireCopy",
    "WireIndex",
    "containment",
    "estimated_containment",
    "shingles",
]

SHINGLE_WORDS = 5
# Containment from which two articles are copies: chosen on the dev half of bench.wire's set.
COPY_CONTAINMENT = 0.6
NUM_PERM = 128
# The LSH index returns pairs above this Jaccard similarity; containment 0.6 between an
# article and one twice its size is Jaccard 0.43 (0.25 for one four times its size), so
# candidates start there.
_LSH_JACCARD = 0.25
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class WireCopy:
    article_id: str
    containment: float  # estimated share of the smaller article's shingles in the other


def shingles(text: str) -> set[str]:
    """The word 5-grams of a text (fewer words: the text's words as one shingle)."""
    words = _WORD.findall(unicodedata.normalize("NFC", text).casefold())
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def estimated_containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Containment of the smaller set from the Jaccard similarity and both sizes:
    |A∩B| = J (|A| + |B|) / (1 + J)."""
    if size_a == 0 or size_b == 0:
        return 0.0
    common = jaccard * (size_a + size_b) / (1 + jaccard)
    return min(1.0, common / min(size_a, size_b))


class WireIndex:
    """Articles' MinHash signatures in an LSH index: which indexed articles a text copies.

    Thread-safe; built from the collection once (``add`` each article), then kept in step
    with each change.
    """

    def __init__(self, threshold: float = COPY_CONTAINMENT) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=_LSH_JACCARD, num_perm=NUM_PERM)
        self._signatures: dict[str, tuple[object, int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, article_id: str, text: str) -> None:
        """Index an article's text (title and body) for ``copies``, replacing its earlier one."""
        signature, size = _signature(shingles(text))
        with self._lock:
            if article_id in self._signatures:
                self._lsh.remove(article_id)
            self._signatures[article_id] = (signature, size)
            self._lsh.insert(article_id, signature)

    def remove(self, article_id: str) -> None:
        """Forget an article; one never added is no error."""
        with self._lock:
            if self._signatures.pop(article_id, None) is not None:
                self._lsh.remove(article_id)

    def copies(self, text: str, exclude: Iterable[str] = ()) -> list[WireCopy]:
        """The indexed articles that ``text`` copies (or that copy it), most similar first."""
        signature, size = _signature(shingles(text))
        if size == 0:
            return []
        skip = set(exclude)
        found = []
        with self._lock:
            for article_id in self._lsh.query(signature):
                if article_id in skip:
                    continue
                other, other_size = self._signatures[article_id]
                jaccard = signature.jaccard(other)  # type: ignore[attr-defined]
                share = estimated_containment(jaccard, size, other_size)
                if share >= self.threshold:
                    found.append(WireCopy(article_id, round(share, 3)))
        return sorted(found, key=lambda c: (-c.containment, c.article_id))


def _signature(grams: set[str]) -> tuple[object, int]:
    from datasketch import MinHash

    signature = MinHash(num_perm=NUM_PERM)
    signature.update_batch([gram.encode() for gram in grams])
    return signature, len(grams)
