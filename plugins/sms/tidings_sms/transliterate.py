"""Letters outside GSM-7 replaced by their nearest GSM-7 letters: ``[channels.sms] transliterate = true``.

One letter outside the GSM 03.38 alphabet makes a whole SMS travel as UCS-2, which holds 70
characters instead of 160: October's Polish ``paź`` alone can double a reminder's price. With
``transliterate = true`` the SMS channel replaces such letters at send time, in the final text,
so names, month names and the deployer's own words are all covered (PRODUCT §7):

- every character of GSM-7 stays as written, also those that are not ASCII (``é ö ñ ü à ß Ø Å``,
  the Greek capitals ``Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ``, ``£ ¥ § € ¿ ¡``);
- Cyrillic follows a national standard, chosen per word: Ukrainian by the official national
  romanisation (KMU 2010: ``Київ`` → ``Kyiv``, ``Юлія`` → ``Yuliia``), Russian by the
  BGN/PCGN system without its diacritics (``Юлия`` → ``Yuliya``, ``сентября`` → ``sentyabrya``).
  A word with a letter only Ukrainian has (``і ї є ґ``) is Ukrainian, one with a letter only
  Russian has (``ы э ъ ё``) is Russian, and any other follows the message's locale;
- every other letter, and typographic punctuation (``„ ” – … «``, no-break spaces), goes
  through `anyascii`, whose tables drop diacritics (``ą`` → ``a``, ``ł`` → ``l``, ``ř`` → ``r``)
  and spell out other scripts;
- symbols with no GSM-7 counterpart (emoji) stay as written: they are not letters, and ``check``
  shows what they cost.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from anyascii import anyascii

from tidings_sms import segments
from tidings_sms.segments import GSM7_BASIC, GSM7_EXTENSION

if TYPE_CHECKING:
    from tidings.plugin_types import Description, RenderedMessage

_GSM7 = GSM7_BASIC | GSM7_EXTENSION

# the ASCII characters GSM-7 lacks
_ASCII_FIXES = {"`": "'", "\t": " "}
# parts of emoji sequences (joiner, variation selectors, skin tones), kept with the emoji they build
_EMOJI_PARTS = re.compile("[\u200d\ufe00-\ufe0f\U0001f3fb-\U0001f3ff]")

# Ukrainian, the national romanisation of the Cabinet of Ministers' resolution 55 of 2010.
# The second form is used at the start of a word (Є Ї Й Ю Я); the soft sign and the apostrophe are dropped.
_UK: dict[str, tuple[str, str]] = {
    "а": ("a", "a"), "б": ("b", "b"), "в": ("v", "v"), "г": ("h", "h"), "ґ": ("g", "g"), "д": ("d", "d"),
    "е": ("e", "e"), "є": ("ie", "ye"), "ж": ("zh", "zh"), "з": ("z", "z"), "и": ("y", "y"), "і": ("i", "i"),
    "ї": ("i", "yi"), "й": ("i", "y"), "к": ("k", "k"), "л": ("l", "l"), "м": ("m", "m"), "н": ("n", "n"),
    "о": ("o", "o"), "п": ("p", "p"), "р": ("r", "r"), "с": ("s", "s"), "т": ("t", "t"), "у": ("u", "u"),
    "ф": ("f", "f"), "х": ("kh", "kh"), "ц": ("ts", "ts"), "ч": ("ch", "ch"), "ш": ("sh", "sh"),
    "щ": ("shch", "shch"), "ь": ("", ""), "ю": ("iu", "yu"), "я": ("ia", "ya"),
    "'": ("", ""), "\u2019": ("", ""), "\u02bc": ("", ""),
}
# Russian, BGN/PCGN without its diacritics and apostrophes (ё as е, as Russian writing itself mostly does)
_RU: dict[str, tuple[str, str]] = {
    "а": ("a", "a"), "б": ("b", "b"), "в": ("v", "v"), "г": ("g", "g"), "д": ("d", "d"), "е": ("e", "e"),
    "ё": ("e", "e"), "ж": ("zh", "zh"), "з": ("z", "z"), "и": ("i", "i"), "й": ("y", "y"), "к": ("k", "k"),
    "л": ("l", "l"), "м": ("m", "m"), "н": ("n", "n"), "о": ("o", "o"), "п": ("p", "p"), "р": ("r", "r"),
    "с": ("s", "s"), "т": ("t", "t"), "у": ("u", "u"), "ф": ("f", "f"), "х": ("kh", "kh"), "ц": ("ts", "ts"),
    "ч": ("ch", "ch"), "ш": ("sh", "sh"), "щ": ("shch", "shch"), "ъ": ("", ""), "ы": ("y", "y"), "ь": ("", ""),
    "э": ("e", "e"), "ю": ("yu", "yu"), "я": ("ya", "ya"),
}
_ONLY_UK = frozenset("іїєґ")
_ONLY_RU = frozenset("ыэъё")
# a Cyrillic word, with the Ukrainian apostrophe inside it (м'ята, сім’я)
_CYRILLIC_WORD = re.compile("[\u0400-\u04ff]+(?:['\u2019\u02bc][\u0400-\u04ff]+)*")


def transliterate(text: str, locale: str = "") -> str:
    """`text` with every character outside GSM-7 replaced by its nearest GSM-7 letters (see the module).

    Args:
        text: the final text of an SMS.
        locale: the message's locale (``"uk"``, ``"ru-RU"``); it decides how a Cyrillic word that
            could be Ukrainian or Russian is spelt.

    Example:
        >>> transliterate("Do zobaczenia 10 paź o 14:00, Łucja!")
        'Do zobaczenia 10 paz o 14:00, Lucja!'
    """
    if _GSM7.issuperset(text):
        return text
    text = unicodedata.normalize("NFC", text)   # "e" + a combining accent is GSM-7's "é"
    ukrainian = locale.lower().startswith("uk")
    text = _CYRILLIC_WORD.sub(lambda m: _cyrillic(m.group(0), ukrainian=ukrainian), text)
    return "".join(c if c in _GSM7 else _nearest(c) for c in text)


def _cyrillic(word: str, *, ukrainian: bool) -> str:
    letters = set(word.lower())
    table = _UK if letters & _ONLY_UK or (ukrainian and not letters & _ONLY_RU) else _RU
    capitals = len(word) > 1 and word.isupper()
    out: list[str] = []
    for i, c in enumerate(word):
        low = c.lower()
        forms = table.get(low)
        if forms is None:
            out.append(c)   # a letter of another Cyrillic alphabet (ў, ђ): left to anyascii
            continue
        latin = forms[1] if i == 0 else forms[0]
        if table is _UK and low == "г" and i > 0 and word[i - 1].lower() == "з":
            latin = "gh"   # зг is zgh, so that it is not read as жг (KMU 2010)
        if c != low:
            latin = latin.upper() if capitals else latin.capitalize()
        out.append(latin)
    return "".join(out)


def _nearest(c: str) -> str:
    category = unicodedata.category(c)
    if category == "So" or _EMOJI_PARTS.fullmatch(c):
        return c    # an emoji has no GSM-7 counterpart; spelling it out (":grinning:") would be worse
    latin = "".join(ch if ch in _GSM7 else _ASCII_FIXES.get(ch, "") for ch in anyascii(c))
    if latin or category in ("Mn", "Me", "Cf", "Cc"):
        return latin    # a stray combining mark, an invisible format or control character: dropped
    return c        # nothing to replace it with: kept rather than lost


def prepare(message: RenderedMessage, settings: Any) -> RenderedMessage:
    """The channel's `prepare`: with ``transliterate = true``, the message with its text transliterated.

    The core calls it at send time, after rendering, so that the provider, the delivery log and
    `describe` all get the text that is actually sent.
    """
    if not getattr(settings, "transliterate", False) or "text" not in message.parts:
        return message
    text = message.parts["text"]
    sent = transliterate(text, message.locale)
    return message if sent == text else attrs.evolve(message, parts={**message.parts, "text": sent})


def describe(parts: Mapping[str, str]) -> Description:
    """The channel's `describe`: the text's encoding and segments, and what they would be transliterated.

    ``{"encoding": "UCS-2", "segments": 2, "transliterated": {"encoding": "GSM-7", "segments": 1}}``;
    the ``transliterated`` entry is left out when transliterating would change nothing, so the
    description of a text that is sent transliterated is the cost of exactly what was sent.
    """
    info = segments.describe(parts)
    text = parts.get("text", "")
    sent = transliterate(text)
    if sent != text:
        info = attrs.evolve(info, alternatives={"transliterated": segments.describe({**parts, "text": sent})})
    return info
