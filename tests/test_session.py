"""ChatSession: pages of an answer per chat, More once per page, Context on what was shown."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from index.errors import AnswerExpiredError, PageSpentError
from index.search import SearchParams
from index.service import IndexService
from index.session import ChatMemory, ChatSession
from index.settings import IndexSettings

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


def open_session(service: IndexService, min_score: float = -1.0) -> ChatSession:
    """A session over ``service``; by default every passage is an answer (hashing vectors)."""
    service.search_params = SearchParams(
        min_score=min_score,
        max_score_gap=2.0,
        page_gap_same_article=2.0,
        page_gap_other_article=2.0,
    )
    return ChatSession(service)


def test_pages_follow_each_other_and_each_more_works_once(service: IndexService) -> None:
    session = open_session(service)
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


def test_two_presses_at_once_search_once(service: IndexService) -> None:
    session = open_session(service)
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


def test_context_and_expired_keys(service: IndexService) -> None:
    session = open_session(service)
    page = session.ask(1, "volcan lave")
    wider = session.context(1, page.key, 2)
    assert wider.article_id == "volcans" and wider.start <= page.answer.quotes[1].start
    with pytest.raises(AnswerExpiredError):
        session.context(1, page.key, 4)  # no quote 4 shown yet
    with pytest.raises(AnswerExpiredError):
        session.context(2, page.key, 1)  # another chat's key
    with pytest.raises(AnswerExpiredError):
        session.more(1, "AAAAAAAA")


def test_an_unanswered_question_keeps_nothing(service: IndexService) -> None:
    session = open_session(service, min_score=5.0)  # nothing scores that high
    page = session.ask(1, "zorglub quantique")
    assert page.key == "" and not page.answer.quotes and not page.has_more


def test_chat_memory_is_a_bounded_lru_per_chat() -> None:
    memory: ChatMemory[int] = ChatMemory(per_chat=3, max_chats=2)
    keys = [memory.put(1, n) for n in range(4)]
    assert memory.get(1, keys[0]) is None  # evicted
    assert [memory.get(1, k) for k in keys[1:]] == [1, 2, 3]
    assert all(len(k.encode()) == 8 for k in keys)
    memory.get(1, keys[1])  # refreshed: the oldest is now keys[2]
    memory.put(1, 4)
    assert memory.get(1, keys[2]) is None and memory.get(1, keys[1]) == 1
    other = memory.put(2, 20)
    memory.put(3, 30)  # a third chat evicts the least recently used chat (1)
    assert memory.get(1, keys[1]) is None and memory.get(2, other) == 20
    assert memory.pop(2, other) == 20 and memory.get(2, other) is None
