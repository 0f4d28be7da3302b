"""Encoding detection on short real texts: UTF-8, cp1252/latin-1, GBK/GB18030, Big5 (and BOMs)."""

from __future__ import annotations

import pytest

from knowledge.encoding import decode_text
from knowledge.loaders import SkipFile

SIMPLIFIED = "晚上睡不着的时候，可以起床做一些安静的事情。"
TRADITIONAL = "晚上睡不著的時候，可以起床做一些安靜的事情，等有睡意再回到床上。"
SAMPLES = [
    (SIMPLIFIED, "gb18030"),
    (SIMPLIFIED, "gbk"),
    (SIMPLIFIED, "gb2312"),
    ("我最近压力很大。", "gbk"),
    (TRADITIONAL, "big5"),
    ("我最近壓力很大。", "big5"),
    (TRADITIONAL, "gb18030"),
    ("café naïve", "latin-1"),
    ("café naïve", "cp1252"),
    ("Un café et une crème brûlée, s'il vous plaît. Le garçon était naïf.", "latin-1"),
    ("Müde Bären schlafen gern über Mittag an der Straße.", "latin-1"),
    ("El niño comió piña en la mañana. ¿Cómo estás?", "cp1252"),
    ("He said “hello” — it’s fine… €5", "cp1252"),
    ("Привет, как дела? Я устал и плохо сплю.", "cp1251"),
    ("Sleep hygiene: keep a regular wake time.", "utf-8"),
    (SIMPLIFIED, "utf-8"),
    (SIMPLIFIED, "utf-16"),
    ("café", "utf-8-sig"),
]


@pytest.mark.parametrize(("text", "codec"), SAMPLES)
def test_short_texts_decode_to_the_original(text: str, codec: str) -> None:
    assert decode_text(text.encode(codec)) == text


def test_binary_is_refused() -> None:
    with pytest.raises(SkipFile, match="binary content"):
        decode_text(b"\x00\x01\x02 binary \x00" * 20)
