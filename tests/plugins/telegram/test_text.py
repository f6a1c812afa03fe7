"""The text of a Telegram message: the title in bold over the text, every character of user data shown as typed."""

from __future__ import annotations

from tidings_telegram.text import compose


def test_the_title_is_bold_over_the_text_and_markup_in_either_is_escaped() -> None:
    parts = {"title": "Visit for Tom & <Jerry>", "text": "Hi <b>Ola</b> & co, see you at 14:00 \"sharp\"."}
    assert compose(parts, bold_title=True) == {
        "text": "<b>Visit for Tom &amp; &lt;Jerry&gt;</b>\n\nHi &lt;b&gt;Ola&lt;/b&gt; &amp; co, see you at 14:00 \"sharp\".",
        "parse_mode": "HTML"}


def test_plain_mode_sends_the_parts_as_written_without_a_parse_mode() -> None:
    parts = {"title": "Visit <tomorrow>", "text": "Hi & bye"}
    assert compose(parts, bold_title=False) == {"text": "Visit <tomorrow>\n\nHi & bye"}


def test_a_missing_title_leaves_the_text_alone() -> None:
    assert compose({"text": "Hi Ola"}, bold_title=True) == {"text": "Hi Ola", "parse_mode": "HTML"}
    assert compose({"title": "  ", "text": "Hi Ola"}, bold_title=False) == {"text": "Hi Ola"}
