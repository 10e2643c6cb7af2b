"""ChatSession: pages of an answer per chat, More once per page, Context on what was shown."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from index.chat.session import KEY_PATTERN, ChatSession
from index.errors import AnswerExpiredError, PageSpentError
from index.retrieval.search import SearchParams
from index.service import IndexService
from index.settings import IndexSettings
from index.stores.readers import ReaderStore

PLACES = (
    "Etna Stromboli Vésuve Hekla Fuji Kilauea Merapi Pinatubo Teide Erebus Sakurajima Nyiragongo"
)
PARAGRAPHS = [
    f"Le volcan {place} crache de la lave ; {' '.join([place.lower()] * (n + 1))} est surveillé."
    for n, place in enumerate(PLACES.split())
]


@pytest.fixture
def service(tmp_path: Path) -> IndexService:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "volcans.txt").write_text("Volcans\n\n" + "\n\n".join(PARAGRAPHS), encoding="utf-8")
    settings = IndexSettings(
        seeds_dir=seeds,
        data_dir=tmp_path / "data",
        embedding_model="hashing-128",
        chunk_max_chars=100,
        search_k=3,
    )
    built = IndexService(settings)
    built.rebuild()
    return built


def open_session(
    service: IndexService, readers: ReaderStore, min_score: float = -1.0, per_chat: int = 500
) -> ChatSession:
    """A session over ``service``; by default every passage is an answer (hashing vectors)."""
    service.search_params = SearchParams(
        min_score=min_score,
        max_score_gap=2.0,
        page_gap_same_article=2.0,
        page_gap_other_article=2.0,
    )
    return ChatSession(service, readers, per_chat=per_chat)


def test_pages_follow_each_other_and_each_more_works_once(
    service: IndexService, readers: ReaderStore
) -> None:
    session = open_session(service, readers)
    first = session.ask(1, "volcan lave")
    assert first.first == 0 and list(first.numbers) == [1, 2, 3] and first.has_more
    second = session.more(1, first.key)
    assert second.first == 3 and list(second.numbers) == [4, 5, 6]
    assert {q.start for q in first.answer.quotes}.isdisjoint(q.start for q in second.answer.quotes)
    with pytest.raises(PageSpentError, match="already shown"):
        session.more(1, first.key)
    # The spent page keeps its Context buttons, not its More.
    spent = session.page_of(1, first.key)
    assert not spent.has_more and list(spent.numbers) == [1, 2, 3]
    assert session.more(1, second.key).first == 6


def test_two_presses_at_once_search_once(service: IndexService, readers: ReaderStore) -> None:
    session = open_session(service, readers)
    first = session.ask(1, "volcan lave")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def press() -> None:
        barrier.wait()
        try:
            session.more(1, first.key)
            outcomes.append("page")
        except PageSpentError:
            outcomes.append("spent")

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["page", "spent"]


def test_context_and_expired_keys(service: IndexService, readers: ReaderStore) -> None:
    session = open_session(service, readers)
    page = session.ask(1, "volcan lave")
    wider = session.context(1, page.key, 2)
    assert wider.article_id == "volcans" and wider.start <= page.answer.quotes[1].start
    with pytest.raises(AnswerExpiredError):
        session.context(1, page.key, 4)  # no quote 4 shown yet
    with pytest.raises(AnswerExpiredError):
        session.context(2, page.key, 1)  # another chat's key
    with pytest.raises(AnswerExpiredError):
        session.more(1, "AAAAAAAA")


def test_an_unanswered_question_keeps_nothing(service: IndexService, readers: ReaderStore) -> None:
    session = open_session(service, readers, min_score=5.0)  # nothing scores that high
    page = session.ask(1, "zorglub quantique")
    assert page.key == "" and not page.answer.quotes and not page.has_more


def test_a_chat_keeps_its_latest_answers_only(service: IndexService, readers: ReaderStore) -> None:
    session = open_session(service, readers, per_chat=2)
    first, second, third = (session.ask(1, q) for q in ("volcan lave", "Etna", "Hekla"))
    other = session.ask(2, "Fuji")  # another chat's answers push out none of chat 1's
    assert all(re.fullmatch(KEY_PATTERN, p.key) for p in (first, second, third, other))
    with pytest.raises(AnswerExpiredError):
        session.page_of(1, first.key)
    assert session.page_of(1, second.key).answer.quotes == second.answer.quotes
    assert session.page_of(1, third.key).answer.quotes == third.answer.quotes
    assert session.page_of(2, other.key).answer.quotes == other.answer.quotes
    with pytest.raises(AnswerExpiredError):
        session.page_of(2, third.key)  # a key is its chat's only
