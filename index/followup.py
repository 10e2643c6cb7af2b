"""Follow-up questions without a language model: "Et à Almaty ?" after an answer.

A question is a follow-up of the chat's last one when it replies to one of the bot's answers,
or when it is short and comes soon after it. Its answer is then the best of three searches:
the question alone, the question joined to the last one's subject within the articles that
answer quoted, and the same joined question over every article. A short question that does
not say it continues ("Et…", "What about…", "il", "they") and that its own words answer is a
new subject and keeps its own answer.

>>> from datetime import UTC, datetime
>>> before = Turn(1, "Pourquoi les manifestations ont-elles commencé ?", ("a",), "2026-12-01T09:00:00Z")
>>> is_follow_up("Et à Almaty ?", before, datetime(2026, 12, 1, 9, 2, tzinfo=UTC), 300, False)
True
>>> is_follow_up("Et à Almaty ?", before, datetime(2026, 12, 1, 10, 0, tzinfo=UTC), 300, False)
False
>>> joined_subject("Pourquoi les manifestations ont-elles commencé ?", "Et à Almaty ?")
'Pourquoi les manifestations ont-elles commencé ? Et à Almaty ?'
"""

from __future__ import annotations

import re
from datetime import datetime

from index.readers import Turn

__all__ = [
    "FOLLOW_UP_MAX_WORDS",
    "MAX_SUBJECT_CHARS",
    "is_follow_up",
    "joined_subject",
    "leans_on_previous",
]

# A question of at most this many words soon after an answer may lean on it ("Et à Almaty ?",
# "what about the uranium price?"); longer ones carry their own subject.
FOLLOW_UP_MAX_WORDS = 8
MAX_SUBJECT_CHARS = 400


def is_follow_up(
    question: str, previous: Turn | None, now: datetime, window_seconds: float, replied: bool
) -> bool:
    """Whether ``question`` may lean on the chat's ``previous`` turn."""
    if previous is None or window_seconds <= 0:
        return False
    if replied:
        return True
    asked = datetime.fromisoformat(previous.at.replace("Z", "+00:00"))
    if not 0 <= (now - asked).total_seconds() <= window_seconds:
        return False
    return len(question.split()) <= FOLLOW_UP_MAX_WORDS


# How a question says it continues the last one: its first word ("Et à Almaty ?", "And in
# Almaty?", "¿Y el petróleo?", "Und wie viele…"), "what about", or a word that points back
# ("Où a-t-il…", "Where did he…"); or it is too short to carry a subject of its own.
_CONTINUES = re.compile(
    r"^\W*(?:et|mais|puis|alors|ou|and|but|or|also|what\s+about|how\s+about|y|pero|o|und|"
    r"aber|oder|e|ma)\b",
    re.I,
)
_POINTS_BACK = re.compile(
    # Not after a hyphen: French inversions ("Tokaïev a-t-il", "ont-elles") follow a subject.
    r"(?<![-\w])(?:il|elle|ils|elles|lui|leur|leurs|ça|cela|celui-ci|celle-ci|ce\s+dernier|cette\s+"
    r"dernière|he|she|they|him|her|them|his|their|it|its|those|these|er|sie|ihm|ihn|ihr|él|"
    r"ella|ellos)\b",
    re.I,
)
_OWN_SUBJECT_WORDS = 4


def leans_on_previous(question: str) -> float:
    """How clearly a question says it continues the last one: 1.0 when it starts so ("Et…",
    "What about…") or is too short to carry a subject (under four words), 0.5 when only a word
    points back ("Where did he…", "Qu'a-t-elle dit de lui ?"), else 0. French inversions
    ("Tokaïev a-t-il…", "ont-elles") follow their subject and do not count.

    >>> leans_on_previous("Et à Almaty ?"), leans_on_previous("Where did he get asylum?")
    (1.0, 0.5)
    >>> leans_on_previous("Pourquoi les manifestations ont-elles commencé ?")
    0.0
    >>> leans_on_previous("Combien d'espèces d'abeilles sont répertoriées ?")
    0.0
    """
    if len(question.split()) < _OWN_SUBJECT_WORDS or _CONTINUES.search(question):
        return 1.0
    return 0.5 if _POINTS_BACK.search(question) else 0.0


def joined_subject(previous: str, question: str) -> str:
    """The question with the subject before it; the oldest words go first when it grows long."""
    joined = f"{previous.strip()} {question.strip()}"
    return joined if len(joined) <= MAX_SUBJECT_CHARS else joined[-MAX_SUBJECT_CHARS:].lstrip()
