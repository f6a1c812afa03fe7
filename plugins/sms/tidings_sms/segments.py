"""How many SMS segments a text costs: GSM-7 or UCS-2 encoding, and concatenated-SMS packing.

A text made only of characters of the GSM 03.38 default alphabet travels as GSM-7: 160 septets in
a single SMS, 153 per segment once it is split (the user data header takes 7). The extension
table's characters (``^ { } \\ [ ~ ] | €`` and form feed) are sent as an escape and a character,
so they cost two septets. Any other character switches the whole text to UCS-2: 70 UTF-16 code
units in a single SMS, 67 per segment, and characters outside the Basic Multilingual Plane (most
emoji) cost two units.

A split never cuts an escape sequence or a surrogate pair in half, so segments are packed
greedily, as handsets and providers do; this can cost one more segment than a plain division.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from tidings.plugin_types import Description

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# GSM 03.38 default alphabet, in table order (0x1B, the escape to the extension table, is left out)
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each costs two septets (escape + character)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

# (limit of a single SMS, limit of each segment of a concatenated SMS), in septets or UTF-16 units
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@frozen
class SegmentInfo:
    """The encoding of one SMS text and what it costs.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        characters: the number of characters (Unicode code points) of the text.
        units: septets for GSM-7, UTF-16 code units for UCS-2.
        segments: how many SMS the provider will bill (0 for an empty text).
    """

    encoding: str
    characters: int
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` is in the GSM-7 default alphabet or its extension table."""
    return _GSM7_ALL.issuperset(text)


def _costs(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def segment_info(text: str) -> SegmentInfo:
    """The encoding, size and segment count of one SMS text.

    Example:
        >>> segment_info("Zażółć gęślą jaźń")
        SegmentInfo(encoding='UCS-2', characters=17, units=17, segments=1)
    """
    encoding = GSM7 if is_gsm7(text) else UCS2
    # the units counted in C: an extension character is two septets, a character outside the BMP two UTF-16 units
    if encoding == GSM7:
        units = len(text) + sum(text.count(c) for c in GSM7_EXTENSION)
    else:
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    single, per_segment = LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments, used = 1, 0
        for cost in _costs(text, encoding):
            if used + cost > per_segment:   # an escape pair or surrogate pair is never split
                segments, used = segments + 1, 0
            used += cost
    return SegmentInfo(encoding=encoding, characters=len(text), units=units, segments=segments)


def describe(parts: Mapping[str, str]) -> Description:
    """The channel's `describe`: the encoding and segment count of a rendered SMS's ``text`` part.

    A provider bills by the segment, so the segments are the message's `cost`:
    ``{"encoding": "UCS-2", "segments": 2}``, written ``UCS-2, 2 segments``.
    """
    text = parts.get("text", "")
    info = segment_info(text)
    return Description(facts={"encoding": info.encoding, "segments": info.segments},
                       phrase=f"{info.encoding}, {info.segments} segment{'s' if info.segments != 1 else ''}",
                       detail=f"{len(text)} characters", cost=info.segments)
