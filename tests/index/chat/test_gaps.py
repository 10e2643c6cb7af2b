"""Grouping readers' questions by wording (``index.chat.gaps``): the same groups as comparing every
question with every group, in far less time."""

from __future__ import annotations

from bench.gaps import questions
from index.chat.feedback import similar_questions
from index.chat.gaps import group_gaps, group_wordings
from index.stores.readers import Gap


def quadratic(asked: list[str]) -> list[list[int]]:
    """The reference: each question joins the first group whose first wording is similar."""
    groups: list[list[int]] = []
    for position, question in enumerate(asked):
        for group in groups:
            if similar_questions(asked[group[0]], question):
                group.append(position)
                break
        else:
            groups.append([position])
    return groups


def test_the_groups_are_those_of_comparing_every_pair() -> None:
    asked = questions(600)
    asked += [
        "Pourquoi ?",
        "POURQUOI ?",
        "?!",
        "?!",
        "Où est passé l'Élysée ?",
        "ou est passe l'elysee",
    ]
    assert group_wordings(asked) == quadratic(asked)


def test_questions_sharing_only_a_common_word_stay_apart() -> None:
    # 3,000 questions that share "pourquoi" and nothing else (each is compared with a few).
    asked = [f"Pourquoi mot{n:05d} ?" for n in range(3000)] + ["pourquoi MOT00042"]
    grouped = group_wordings(asked)
    assert len(grouped) == 3000 and grouped[42] == [42, 3000]


def test_the_most_asked_wording_names_the_group() -> None:
    gaps = [
        Gap("Comment faire une pâte à crêpes ?", "declined", "fr", "t"),
        Gap("Comment faire la pâte à crêpes ?", "closest", "fr", "t"),
        Gap("Comment faire la pâte à crêpes ?", "declined", "fr", "t"),
    ]
    [group] = group_gaps(gaps)
    assert (group.question, group.count, group.outcomes) == (
        "Comment faire la pâte à crêpes ?",
        3,
        (("closest", 1), ("declined", 2)),
    )


def test_a_scoped_groups_gap_is_its_scopes() -> None:
    # Issue 23, item 9: the collection may answer what a group's scope does not.
    gaps = [
        Gap("Qui a tiré ?", "declined", "fr", "t", "transport"),
        Gap("Qui a tiré ?", "declined", "fr", "t"),
        Gap("Qui a donc tiré ?", "closest", "fr", "t", "transport"),
    ]
    assert [(g.question, g.count, g.scope) for g in group_gaps(gaps)] == [
        ("Qui a tiré ?", 2, "transport"),
        ("Qui a tiré ?", 1, ""),
    ]
