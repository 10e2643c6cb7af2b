"""Plain data shared by every stage of the index: articles, chunks, quotes, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from index.ingest.dates import TimeFrame
from index.reasons import Reason
from index.retrieval.confidence import Evidence, Outcome

__all__ = ["Answer", "Article", "ArticleSummary", "Chunk", "LoadProblem", "Quote"]


@dataclass(frozen=True, slots=True)
class Article:
    """One cleaned source article; every quote is a slice of ``text``."""

    id: str
    title: str
    text: str
    sha256: str
    lang: str = "fr"
    url: str | None = None
    date: str | None = None  # as the source gives it, for display
    source_path: str | None = None
    source_sha256: str | None = None  # of the source file's bytes: a sync skips unchanged files
    outlet: str | None = None  # who published it: a site, a channel
    feed: str | None = None  # the feed it came from
    tags: tuple[str, ...] = ()
    published: str | None = None  # ISO 8601 (UTC) date of publication, when known: filters use it


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """What lists show of an article: everything but its text (``IndexStore.summaries``).

    Listing 3,801 articles as ``Article`` read every text, for a page of ten titles.
    """

    id: str
    title: str
    lang: str = "fr"
    url: str | None = None
    date: str | None = None
    outlet: str | None = None
    feed: str | None = None
    tags: tuple[str, ...] = ()
    published: str | None = None
    chars: int = 0  # the text's length


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """A source file that could not be loaded, and why (said to the admin, not raised)."""

    path: str
    reason: Reason


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of an article: ``article.text[start:end] == text``.

    ``sentences`` are (start, end) offsets into the article text, in order, covering the chunk.
    """

    article_id: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim passage returned for a question.

    ``article_text[start:end] == text`` and ``highlight_start <= highlight_end`` lie inside it.
    """

    article_id: str
    title: str
    url: str | None
    text: str
    start: int
    end: int
    highlight_start: int
    highlight_end: int
    score: float
    # The article's hash when the quote was taken: a later Context checks it is still the same text.
    article_sha256: str = ""
    # "answer" when the evidence is strong, "closest" when this is only the nearest passage.
    confidence: Literal["answer", "closest"] = "answer"
    # Who published the article and when (ISO 8601), for the citation.
    outlet: str | None = None
    published: str | None = None
    # Other articles that carry the same text (wire copies), shown once: their outlets or titles.
    also_in: tuple[str, ...] = ()

    @property
    def highlight(self) -> str:
        """The best-matching sentence(s) inside the quote."""
        return self.text[self.highlight_start - self.start : self.highlight_end - self.start]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the index says to a question: quotes best first, or none (the articles do not answer)."""

    question: str
    quotes: tuple[Quote, ...]
    question_lang: str = "fr"
    # Quotes that scored above the threshold but were cut by ``k``: what "More" shows next.
    more: tuple[Quote, ...] = ()
    # How likely the articles answer it (``index.retrieval.confidence``), and the signals behind it;
    # None when nothing was searched (an empty question, an empty collection).
    probability: float | None = None
    evidence: Evidence | None = None
    # The period the question asked about ("depuis lundi"), which filtered the passages; with
    # ``widened``, nothing of that period answered and the quotes come from every article.
    time_frame: TimeFrame | None = None
    widened: bool = False
    # A follow-up answered with the chat's previous question: that question (shown as a note).
    follow_up_of: str | None = None

    @property
    def outcome(self) -> Outcome:
        """``answer``, ``closest`` (the nearest passages, which may not answer) or ``declined``."""
        if not self.quotes:
            return "declined"
        return self.quotes[0].confidence

    @property
    def answered(self) -> bool:
        """True when some passage answers (public API: scripts and benchmarks read it)."""
        return bool(self.quotes)
