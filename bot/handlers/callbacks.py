"""Every inline button of the bot: its callback data, the keyboard that carries it, its pattern.

Callback data is what a client sends back, so anyone can forge it: each pattern accepts exactly
what the keyboards here produce (ASCII digits, keys of ``KEY_PATTERN``) and nothing else, and
handlers read the parts from ``context.match``.

>>> MORE.fullmatch("more:abcdEF_-")[1]
'abcdEF_-'
>>> CONTEXT.fullmatch("ctx:abcdEF_-:²") is None
True
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import LANGUAGES, t
from index import KEY_PATTERN, Page

__all__ = [
    "ADD",
    "CONTEXT",
    "FEEDS",
    "MORE",
    "OVERVIEW",
    "REMOVE",
    "SCOPE",
    "SOURCES",
    "VOTE",
    "WRONG",
    "add_keyboard",
    "answer_keyboard",
    "feeds_keyboard",
    "overview_keyboard",
    "remove_keyboard",
    "sources_keyboard",
]

MORE = re.compile(rf"more:({KEY_PATTERN})")
CONTEXT = re.compile(rf"ctx:({KEY_PATTERN}):([0-9]{{1,3}})")
SOURCES = re.compile(r"src:([0-9]{1,5})")
REMOVE = re.compile(rf"rm:([yn]):({KEY_PATTERN})")
ADD = re.compile(rf"add:({KEY_PATTERN})")  # a document offered to add (the readers' store)
VOTE = re.compile(rf"fb:({KEY_PATTERN}):([ud])")
WRONG = re.compile(rf"fbx:({KEY_PATTERN}):([0-9]{{1,3}})")
SCOPE = re.compile(r"scope:(?:([oft]):([0-9a-f]{8})|all)")
# A page of the article list; a time frame's bounds as Unix seconds (either may be empty); the
# language the list was asked in.
OVERVIEW = re.compile(
    rf"ov:([0-9]{{1,5}})(?::([0-9]{{0,11}})-([0-9]{{0,11}}))?(?:@({'|'.join(LANGUAGES)}))?"
)
FEEDS = re.compile(r"feeds:([0-9]{1,3})")  # a page of /feeds (MAX_FEEDS = 200: at most 200)

CONTEXT_BUTTONS_PER_ROW = 4


def answer_keyboard(page: Page, lang: str, feedback: str = "ask") -> InlineKeyboardMarkup | None:
    """A Context button per quote of the page, More while there are further passages, and the
    readers' feedback: 👍 👎 (``feedback="ask"``), then after 👎 a "wrong passage" button per
    quote (``"wrong"``), or nothing once thanked (``"done"``)."""
    if not page.key:
        return None
    context_row = [
        InlineKeyboardButton(t("context_button", lang, n=n), callback_data=f"ctx:{page.key}:{n}")
        for n in page.numbers
    ]
    rows = [
        context_row[i : i + CONTEXT_BUTTONS_PER_ROW]
        for i in range(0, len(context_row), CONTEXT_BUTTONS_PER_ROW)
    ]
    if page.has_more:
        rows.append(
            [InlineKeyboardButton(t("more_button", lang), callback_data=f"more:{page.key}")]
        )
    if feedback == "ask":
        rows.append(
            [
                InlineKeyboardButton("👍", callback_data=f"fb:{page.key}:u"),
                InlineKeyboardButton("👎", callback_data=f"fb:{page.key}:d"),
            ]
        )
    elif feedback == "wrong":
        wrong = [
            InlineKeyboardButton(t("wrong_button", lang, n=n), callback_data=f"fbx:{page.key}:{n}")
            for n in page.numbers
        ]
        rows += [
            wrong[i : i + CONTEXT_BUTTONS_PER_ROW]
            for i in range(0, len(wrong), CONTEXT_BUTTONS_PER_ROW)
        ]
    return InlineKeyboardMarkup(rows) if rows else None


def sources_keyboard(page: int, pages: int, lang: str) -> InlineKeyboardMarkup | None:
    """Prev/Next under a page of /sources."""
    return _pager("src", page, pages, lang)


def _pager(prefix: str, page: int, pages: int, lang: str) -> InlineKeyboardMarkup | None:
    """Prev/Next buttons carrying ``prefix:page``, each only where that page exists."""
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(t("prev_button", lang), callback_data=f"{prefix}:{page - 1}")
        )
    if page < pages - 1:
        row.append(
            InlineKeyboardButton(t("next_button", lang), callback_data=f"{prefix}:{page + 1}")
        )
    return InlineKeyboardMarkup([row]) if row else None


def remove_keyboard(token: str, lang: str) -> InlineKeyboardMarkup:
    """Yes/Cancel under a /remove confirmation."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("yes_button", lang), callback_data=f"rm:y:{token}"),
                InlineKeyboardButton(t("cancel_button", lang), callback_data=f"rm:n:{token}"),
            ]
        ]
    )


def add_keyboard(token: str, lang: str) -> InlineKeyboardMarkup:
    """ "Add to the collection" under a document an admin sent without /add."""
    button = InlineKeyboardButton(t("add_button", lang), callback_data=f"add:{token}")
    return InlineKeyboardMarkup([[button]])


def overview_keyboard(
    next_page: int | None, lang: str, period: tuple[int | None, int | None] | None = None
) -> InlineKeyboardMarkup | None:
    """More under a page of the article list while pages remain (``next_page``); a period's
    list carries its bounds (Unix seconds, "" for none), and every list its language, so that
    its next page is in the language it was asked in, whoever presses More."""
    if next_page is None:
        return None
    bounds = "" if period is None else ":" + "-".join("" if b is None else str(b) for b in period)
    data = f"ov:{next_page}{bounds}@{lang}"
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("more_button", lang), callback_data=data)]]
    )


def feeds_keyboard(page: int, pages: int, lang: str) -> InlineKeyboardMarkup | None:
    """Prev/Next under a page of /feeds."""
    return _pager("feeds", page, pages, lang)
