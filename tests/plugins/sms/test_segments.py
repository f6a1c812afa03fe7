"""GSM-7 / UCS-2 detection and segment counting, on real texts in the languages tidings ships."""

from __future__ import annotations

import pytest

from tidings.plugin_types import Channel

from tidings_sms.segments import GSM7_BASIC, GSM7_EXTENSION, SegmentInfo, segment_info


def test_the_gsm7_tables_have_the_sizes_of_gsm_03_38() -> None:
    # 128 positions minus the escape; nine extension characters plus form feed
    assert len(GSM7_BASIC) == 127
    assert GSM7_EXTENSION == frozenset("\f^{}\\[~]|€")
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Hi Anna, see you tomorrow at 10:00 at Old Town. Reply STOP to opt out."),
    ("pl", "Dzien dobry! Przypominamy o wizycie jutro o 10:00."),
    ("it", "Ci vediamo lunedì alle 10:00, a più tardi! Perché no? Città, però, è già piena."),
    ("de", "Grüße aus Köln: Ärger, Öl, Übung, ß."),
    ("es", "¿Mañana? ¡Vale! Año Ñandu."),   # but í and ú are not in the table
    ("symbols", "@£$¥¤§_ΔΦΓΛΩΠΨΣΘΞ ÆæØøÅåÇÉ\r\n"),
])
def test_texts_of_the_default_alphabet_are_gsm7(language: str, text: str) -> None:
    info = segment_info(text)
    assert info == SegmentInfo(encoding="GSM-7", characters=len(text), units=len(text), segments=1)


@pytest.mark.parametrize(("language", "text"), [
    ("pl", "Zażółć gęślą jaźń"),
    ("pl", "Dzień dobry! Przypominamy o wizycie jutro o 10:00. Do zobaczenia, Salon Róża."),
    ("uk", "Нагадуємо про візит завтра о 10:00. До зустрічі!"),
    ("ru", "Напоминаем о визите завтра в 10:00. До встречи!"),
    ("it", "È confermato: a domani."),         # only É and Ç are capitals of the basic set
    ("it", "À bientôt"),
    ("fr", "Ça va, garçon"),                    # lowercase ç is not in the table (Ç is)
    ("tab", "a\tb"),
    ("nbsp", "10:00\u00a0am"),
    ("backtick", "`code`"),
    ("es", "¡Sí!"),
])
def test_one_character_outside_gsm7_makes_the_whole_text_ucs2(language: str, text: str) -> None:
    info = segment_info(text)
    assert info.encoding == "UCS-2"
    assert info.units == len(text)


def test_polish_letters_with_ogonek_and_stroke_each_force_ucs2() -> None:
    for letter in "ąęłĄĘŁśćźżńó":
        assert segment_info(f"Dzien dobry {letter}").encoding == "UCS-2", letter


@pytest.mark.parametrize(("text", "units", "segments"), [
    ("", 0, 0),
    ("a" * 160, 160, 1),
    ("a" * 161, 161, 2),
    ("a" * 306, 306, 2),
    ("a" * 307, 307, 3),
    ("a" * 459, 459, 3),
    ("a" * 460, 460, 4),
])
def test_gsm7_fits_160_septets_in_one_sms_and_153_per_segment_after(text: str, units: int, segments: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", units, segments)


@pytest.mark.parametrize(("text", "units", "segments"), [
    ("ą" * 70, 70, 1),
    ("ą" * 71, 71, 2),
    ("Б" * 134, 134, 2),
    ("Б" * 135, 135, 3),
])
def test_ucs2_fits_70_units_in_one_sms_and_67_per_segment_after(text: str, units: int, segments: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.units, info.segments) == ("UCS-2", units, segments)


def test_extension_characters_count_two_septets() -> None:
    info = segment_info("{}[]€")
    assert info == SegmentInfo(encoding="GSM-7", characters=5, units=10, segments=1)
    assert segment_info("^~|\\\f").units == 10


def test_eighty_euro_signs_fill_one_sms_and_eighty_one_need_two() -> None:
    assert segment_info("€" * 80) == SegmentInfo(encoding="GSM-7", characters=80, units=160, segments=1)
    assert segment_info("€" * 81) == SegmentInfo(encoding="GSM-7", characters=81, units=162, segments=2)


def test_a_euro_sign_pushes_160_characters_past_one_sms() -> None:
    text = "Price: 50 EUR. " + "a" * 144 + "€"
    assert len(text) == 160
    assert segment_info(text) == SegmentInfo(encoding="GSM-7", characters=160, units=161, segments=2)


def test_an_escape_sequence_is_never_split_across_segments() -> None:
    # 306 septets would fit two segments, but the € at septets 153-154 moves to the second one
    text = "a" * 152 + "€" + "a" * 152
    info = segment_info(text)
    assert (info.units, info.segments) == (306, 3)


def test_an_emoji_counts_two_units_and_is_never_split() -> None:
    assert segment_info("😀") == SegmentInfo(encoding="UCS-2", characters=1, units=2, segments=1)
    assert segment_info("😀" * 35).segments == 1
    assert segment_info("😀" * 36).segments == 2
    # 134 units would fit two segments, but the surrogate pair may not straddle units 67-68
    assert segment_info("ą" * 66 + "😀" + "ą" * 66).segments == 3


def test_a_gsm7_text_with_an_emoji_is_counted_in_ucs2_units() -> None:
    text = "See you tomorrow! 😀"
    assert segment_info(text) == SegmentInfo(encoding="UCS-2", characters=19, units=20, segments=1)


def test_the_channel_describes_a_rendered_text_by_encoding_and_segments(sms_channel: Channel) -> None:
    assert sms_channel.describe is not None
    # a text that transliteration would change is also described as it would be sent transliterated
    assert sms_channel.describe({"text": "Zażółć gęślą jaźń " * 5}) == {
        "encoding": "UCS-2", "segments": 2, "transliterated": {"encoding": "GSM-7", "segments": 1}}
    assert sms_channel.describe({"text": "See you at 10:00"}) == {"encoding": "GSM-7", "segments": 1}
