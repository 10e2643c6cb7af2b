"""Follow-up questions without a language model: "Et à Almaty ?" after an answer.

A question is a follow-up of the chat's last one when it replies to one of the bot's answers,
or when it is short and comes soon after it. Its answer is then the best of three searches:
the question alone, the question joined to the last one's subject within the articles that
answer quoted, and the same joined question over every article. A question with a subject of
its own (a name, a noun, a number: "Who is Ablyazov?", "morts ?") stands alone however short;
only one that says it continues ("Et…", "What about…", "Which other…"), points back ("il",
"they") or has no subject ("Pourquoi ?") leans on the last one. It is joined to the last
question that stood alone, never to a chain of them, and a joined answer is led by a passage
the question alone ranks high (``led_by_own_ranking``).

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
import unicodedata
from dataclasses import replace
from datetime import datetime

from index.models import Answer, Quote
from index.stores.readers import Turn

__all__ = [
    "FOLLOW_UP_MAX_WORDS",
    "MAX_SUBJECT_CHARS",
    "has_own_subject",
    "is_follow_up",
    "joined_subject",
    "leans_on_previous",
    "led_by_own_ranking",
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
# Almaty?", "¿Y el petróleo?", "Und wie viele…"), "what about", or "other" ("Which other
# countries?"); or a word that points back ("Where did he…", "Qu'a-t-il dit ?").
_CONTINUES = re.compile(
    r"^\W*(?:et|mais|puis|alors|ou|and|but|or|also|what\s+about|how\s+about|y|pero|o|und|"
    r"aber|oder|e|ma)\b|(?<![-\w])(?:autres?|other|others|otros?|otras?|andere[nrs]?|altri|"
    r"altre)\b",
    re.I,
)
_POINTS_BACK = re.compile(
    # Not after a hyphen: French inversions ("Tokaïev a-t-il", "ont-elles") follow a subject;
    # ``_INVERSION`` takes those whose subject is the pronoun itself ("Qu'a-t-il dit ?").
    r"(?<![-\w])(?:il|elle|ils|elles|lui|leur|leurs|ça|cela|celui-ci|celle-ci|ce\s+dernier|cette\s+"
    r"dernière|he|she|they|him|her|them|his|their|it|its|those|these|er|sie|ihm|ihn|ihr|él|"
    r"ella|ellos|lei|loro)\b",
    re.I,
)
_INVERSION = re.compile(r"-(?:t-)?(?:il|elle|ils|elles)\b", re.I)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# The words that give a question no subject of its own: question words, articles, pronouns,
# prepositions and auxiliaries of the languages the bot is evaluated in (accents folded). A
# question with any other word ("Who is Ablyazov?", "morts ?", "Der Uranpreis?") has one.
_FUNCTION_WORDS = _word_set(
    # French
    "qui que quoi qu quel quelle quels quelles lequel laquelle ou quand comment combien pourquoi "
    "est ce c ca cela ceci le la les l un une des du de d a au aux en dans sur sous pour par avec "
    "sans et ou mais donc or ni car il elle ils elles on lui leur leurs son sa ses se s y je tu "
    "nous vous me te moi toi t n ne pas plus aussi encore alors puis tout tous toute toutes ete "
    "etre etait sont sera ont avait avoir fait faire dit peut peuvent veut va vont il y-a "
    "quoi donc voila cette ces cet celui celle ceux celles dont autre autres meme "
    # English
    "who whom whose what which where when why how many much is are was were be been being do does "
    "did done have has had the a an of to in on at for from by with about and or but so it its "
    "he she they them him her his their this that these those there then also too any some "
    "can could will would should may might must shall not no yes again more other else "
    "say said tell told me you we i us our your get got make made "
    # Spanish
    "quien quienes que cual cuales donde cuando como cuanto cuanta cuantos cuantas por porque "
    "es son fue fueron era ser estar esta estan ha han hay el la los las lo un una unos unas de "
    "del al en con sin para sobre y o pero tambien mas su sus se le les ella ellos ellas eso esto "
    "ese esa dijo hizo otro otra otros otras "
    # German
    "wer wen wem wessen was welche welcher welches wo wann wie warum wieso weshalb viel viele "
    "ist sind war waren sein wird werden wurde wurden hat haben hatte der die das den dem des ein "
    "eine einen einem einer und oder aber auch noch mit von zu zum zur im in an am auf aus fur "
    "uber bei nach er sie es ihm ihn ihr ihre sein seine dies diese dieser denn sagte andere "
    # Italian
    "chi che cosa quale quali dove quando come quanto quanti quante perche e sono era il lo gli "
    "le una uno di del della dei delle da al alla in con per su ed lui lei loro altri altre"
)


def has_own_subject(text: str, besides: frozenset[str] = frozenset()) -> bool:
    """Whether ``text`` has a word that is not a question word, pronoun, article… (nor one of
    ``besides``, accents folded): a name, a noun, a number ("Who is Ablyazov?", "morts ?")."""
    for word in re.findall(r"\w+", text):
        if any(c.isdigit() for c in word):
            return True
        folded = "".join(
            c
            for c in unicodedata.normalize("NFKD", word.casefold())
            if not unicodedata.combining(c)
        )
        if len(folded) >= 3 and folded not in _FUNCTION_WORDS and folded not in besides:
            return True
    return False


def leans_on_previous(question: str) -> float:
    """How clearly a question says it continues the last one: 1.0 when it starts so ("Et…",
    "What about…", "Which other…") or has no subject of its own ("Pourquoi ?", "Why?"), 0.5
    when only a word points back ("Where did he…", "Qu'a-t-il déclaré ?"), else 0: a question
    with its own subject stands alone however short ("Who is Ablyazov?", "morts ?"). French
    inversions after a subject ("Tokaïev a-t-il…", "ont-elles") do not point back.

    >>> leans_on_previous("Et à Almaty ?"), leans_on_previous("Where did he get asylum?")
    (1.0, 0.5)
    >>> leans_on_previous("Pourquoi ?"), leans_on_previous("Qu'a-t-il déclaré ?")
    (1.0, 0.5)
    >>> leans_on_previous("Who is Ablyazov?"), leans_on_previous("Combien de morts ?")
    (0.0, 0.0)
    >>> leans_on_previous("Pourquoi les manifestations ont-elles commencé ?")
    0.0
    """
    if _CONTINUES.search(question) or not has_own_subject(question):
        return 1.0
    if _POINTS_BACK.search(question):
        return 0.5
    inversion = _INVERSION.search(question)
    if inversion and not has_own_subject(question[: inversion.start()].rsplit("-", 1)[0]):
        return 0.5  # "Qu'a-t-il…", "Où est-elle…": the pronoun is the subject
    return 0.0


def joined_subject(previous: str, question: str) -> str:
    """The question with the subject before it; the oldest words go first when it grows long."""
    joined = f"{previous.strip()} {question.strip()}"
    return joined if len(joined) <= MAX_SUBJECT_CHARS else joined[-MAX_SUBJECT_CHARS:].lstrip()


# A joined search ranks the last subject's passages high; its first quote must be one that the
# question alone ranks among its first ``FAR_DOWN``. Fitted on the tune half of
# eval/conversation.jsonl: 2 and 3 score alike there, 3 leaves "Et combien de morts ?" after
# "Qu'a ordonné Tokaïev ?" led by the order to shoot (ranked third alone).
FAR_DOWN = 2


def _overlaps(a: Quote, b: Quote) -> bool:
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end


def led_by_own_ranking(joined: Answer, alone: Answer, far_down: int = FAR_DOWN) -> Answer:
    """``joined`` with a first quote the question ranks high on its own.

    When the question alone ranks the joined answer's first passage ``far_down`` or lower
    ("Et combien de morts ?" after "Qu'a ordonné Tokaïev ?" puts the order to shoot first), the
    joined passage that the question alone ranks best goes first. Only a ranking with its
    lexical leg counts (a question in the articles' language): nothing changes otherwise, nor
    when the question alone ranks none of the joined passages.
    """
    if alone.evidence is None or not alone.evidence.same_language:
        return joined  # another language's ranking of a subjectless question is noise
    ranking = [*alone.quotes, *alone.more]
    found = [*joined.quotes, *joined.more]
    if not ranking or not found:
        return joined

    def rank(quote: Quote) -> int:
        return next((i for i, r in enumerate(ranking) if _overlaps(quote, r)), len(ranking))

    if rank(found[0]) < far_down:
        return joined
    lead = min(range(len(found)), key=lambda i: rank(found[i]))
    if rank(found[lead]) >= len(ranking):
        return joined
    ordered = [found[lead], *found[:lead], *found[lead + 1 :]]
    shown = len(joined.quotes)
    return replace(joined, quotes=tuple(ordered[:shown]), more=tuple(ordered[shown:]))
