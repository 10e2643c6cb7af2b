"""The articles a store keeps between answers: by generation, within a budget of characters."""

from __future__ import annotations

from index.models import Article
from index.stores.article_cache import ArticleCache


def article(article_id: str, chars: int) -> Article:
    return Article(id=article_id, title=article_id, text="x" * chars, sha256=article_id)


def test_the_least_recently_used_go_first_past_the_budget() -> None:
    cache = ArticleCache(max_chars=10)
    cache.put(1, [article("a", 4), article("b", 4)])
    assert set(cache.get(1, ["a"])) == {"a"}  # now "b" is the least recently used
    cache.put(1, [article("c", 4)])
    assert set(cache.get(1, ["a", "b", "c"])) == {"a", "c"}


def test_an_article_over_the_budget_is_not_kept() -> None:
    cache = ArticleCache(max_chars=10)
    cache.put(1, [article("a", 4), article("huge", 11)])
    assert set(cache.get(1, ["a", "huge"])) == {"a"}


def test_another_generation_empties_it() -> None:
    cache = ArticleCache(max_chars=10)
    cache.put(1, [article("a", 4)])
    assert cache.get(2, ["a"]) == {}
    cache.put(2, [article("b", 4)])
    assert set(cache.get(2, ["a", "b"])) == {"b"}


def test_an_article_put_again_counts_once() -> None:
    cache = ArticleCache(max_chars=10)
    for _ in range(3):
        cache.put(1, [article("a", 4)])
    cache.put(1, [article("b", 6)])
    assert set(cache.get(1, ["a", "b"])) == {"a", "b"}
