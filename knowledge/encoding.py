"""Decode a text file's bytes: UTF-8, the Chinese codecs (GBK/GB18030, Big5), the Western ones.

charset-normalizer alone is wrong on short texts in two ways that matter here: latin-1 "café naïve"
comes back as cp775 ("cafķ na’ve", so the word cannot be found by keyword), and a few lines of
GBK or Big5 can come back as another CJK codec. So a decision rule comes first:

1. a BOM names the encoding; NUL bytes without one mean binary;
2. strict UTF-8;
3. GB18030 (a superset of GBK/GB2312) or Big5, when the bytes decode strictly and the result reads as
   Chinese: mostly Han characters, many of them among the most frequent ones. Wrong codecs decode
   Chinese bytes into rare characters, kana or private-use code points, so frequency decides;
4. charset-normalizer, kept when it finds a non-Latin script (Cyrillic, Greek, Arabic, Japanese...)
   in whole words; a Latin-script guess among the look-alike code pages (or a guess that puts foreign
   letters inside Latin words) becomes cp1252 (latin-1 where cp1252 has holes).
"""

from __future__ import annotations

import re
import unicodedata

from knowledge.document import SkipFile

_BINARY_SNIFF_BYTES = 8192
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_CJK_CODECS = ("gb18030", "big5")
_DETECT_BYTES = 64 * 1024  # enough to decide; the whole file is then decoded with the winner

# The most frequent Chinese characters, simplified and traditional (function words, pronouns, common verbs).
_COMMON_HAN = frozenset(
    "的一是不了人我在有他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成"
    "方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日者意无力它与长把机十民第公此已工使"
    "情明性知全三又关点正业外将两高间由问很最重并物手应向头文体美相见被利什二等产或新己制身果加月话合回特代内信表化老给世位"
    "次度门任常先通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活更别打女变四总何电数安少报才结反受目太量再感建"
    "务做接必场件计管期市直资命山金指许统区保至形社便空决治展科司五基眼书非则听白却界达光放强即像难且权思完设式色路记品住告"
    "类求据程北边死张该交规万取望觉术领共确传师观清今切院让识候带导争运笑风步改收根造言持组每车亲极服快办议往元士证近失转夫"
    "令准始怎呢存未远叫单影具字爱流备连调深算质团集百需价花华城级整离况请际约示复病息究线似火断精满支视消越器容照须九增研写"
    "称功吗包片史查轻易早曾除找装广显吧念引历首医局费号尽另周较注语仅考落青随选响虽推势参希众构房半节土投某案态护兴派孩验"
    "責营星够章音跟志底严例防族供效续施留讲型料终答紧绝察母段依批群项故按河米围江害双境客纪举父密低朝友诉止细愿千值仍男钱"
    "破网热助倒育属坐限脸职速刻乐否刚状率甚独般普怕校苦创假久错承印晚试拿脑预谁益若哪微继送急血惊伤素药适波夜省初喜险待"
    "這個們來為國說時會對過發後裡經麼學現當沒動還進樣從實與長機關點業將兩間問應頭體見產給門常東聲員處義認條氣題爾別變總電"
    "數報結務場計區隊決聽卻達強難權設記類據邊張該規覺術領確傳師觀讓識帶導爭運風轉準單遠愛調質團價華級離況請際約線斷滿視須"
    "寫稱顯念歷醫費號盡較語參眾構節態護興孩驗責營夠嚴親極辦議證險錢網熱職樂獨試腦預誰藥適傷驚壓憂慮睡覺擔"
)


def _reads_as_chinese(text: str) -> float:
    """Share of the text's Han characters that are common ones; 0 when other non-ASCII junk dominates."""
    han = non_ascii = common = 0
    for ch in text:
        if ch.isascii() or ch.isspace():
            continue
        non_ascii += 1
        if "\u4e00" <= ch <= "\u9fff":
            han += 1
            common += ch in _COMMON_HAN
        elif unicodedata.category(ch) in ("Co", "Cn") or "\u3040" <= ch <= "\u30ff":
            non_ascii += 2  # private use, unassigned, kana: the marks of a wrong CJK codec
    if not han or han / non_ascii < 0.6:
        return 0.0
    return common / han


def _cjk_decode(data: bytes) -> str | None:
    best, best_score = None, 0.15  # below this share of common characters it is not Chinese
    for codec in _CJK_CODECS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _reads_as_chinese(text[:20_000])
        if score > best_score:
            best, best_score = text, score
    return best


_WORD = re.compile(r"[^\W\d_]+")


def _is_latin_script(text: str) -> bool:
    """Whether the decoded text is Latin script, or a Latin text mis-decoded into another script: the
    words holding non-ASCII letters then mix them with ASCII letters ("cafﻠ" for café)."""
    words = [w for w in _WORD.findall(text[:20_000]) if not w.isascii()]
    if not words:
        return True
    if all(unicodedata.name(ch, "").startswith("LATIN") for w in words for ch in w if not ch.isascii()):
        return True
    mixed = sum(1 for w in words if any(ch.isascii() for ch in w))
    return mixed / len(words) > 0.3


def _western(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # cp1252 leaves 0x81 0x8d 0x8f 0x90 0x9d undefined
        return data.decode("latin-1")


def decode_text(data: bytes) -> str:
    """The file's text by the rule in the module docstring; binary → SkipFile."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise SkipFile(f"invalid {codec} text after its byte-order mark: {exc.reason}") from exc
    if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        raise SkipFile("binary content (NUL bytes), not a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    chinese = _cjk_decode(data)
    if chinese is not None:
        return chinese
    from charset_normalizer import from_bytes

    best = from_bytes(data[:_DETECT_BYTES]).best()
    if best is not None:
        try:
            text = data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            text = None
        if text is not None and not _is_latin_script(text):
            return text
    return _western(data)
