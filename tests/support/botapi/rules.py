"""What Telegram promises and enforces: limits, error texts, the error reply, known names."""

from __future__ import annotations

from typing import Any

JSONDict = dict[str, Any]


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (long name lists stay readable)."""
    return frozenset(text.split())


BOT_USERNAME = "article_qa_bot"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
PARSE_ERROR = "Bad Request: can't parse entities: "
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
DEFAULT_UPDATE_TYPES = words(
    """
    message edited_message channel_post edited_channel_post inline_query chosen_inline_result
    callback_query shipping_query pre_checkout_query poll poll_answer my_chat_member
    chat_join_request
    """
)
CHAT_ACTIONS = words(
    """
    typing upload_photo record_video upload_video record_voice upload_voice upload_document
    choose_sticker find_location record_video_note upload_video_note
    """
)
BUTTON_ACTIONS = words(
    """
    url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat
    switch_inline_query_chosen_chat copy_text callback_game pay
    """
)


class ApiError(Exception):
    """An error reply of the Bot API: HTTP status ``error_code`` and a Telegram description."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_dict(self) -> JSONDict:
        """The JSON body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.error_code}
        body["description"] = self.description
        if self.parameters:
            body["parameters"] = self.parameters
        return body
