"""PII scrubbing for counseling transcripts in Chinese and English: ``scrub(text) -> (text, counts)``.

Each kind of personal data becomes a placeholder (``[PHONE]``, ``[EMAIL]``…), and the counts per
kind go into the data/ingest reports. Recognisers, in the order they claim text (a span found by an
earlier one is never re-matched by a later one):

- email: the whole address (local part included, also when glued to Chinese text);
- id_card: mainland resident ID numbers, 18 characters, birth date and ISO 7064 MOD 11-2 checksum
  verified (a random 18-digit order number is left alone);
- phone: mainland mobiles (``1[3-9]`` + 9 digits, also glued to Chinese characters, +86 optional),
  then Google's libphonenumber (``phonenumbers``, the matcher Presidio's phone recogniser wraps) for
  landlines with area codes and international numbers (+86/+1/+44…), VALID leniency so prices and
  years are not phones;
- address: Chinese addresses down to a street number (…路/街/巷 + 号), English street addresses;
- name: Chinese person names that jieba's part-of-speech tagger marks ``nr`` and that start with a
  common surname (or are 小X/阿X/老X nicknames), titles kept (王老师 → [NAME]老师); names that follow
  "我叫 / 名字是 / my name is / call me", and Mr./Ms./Dr. + a capitalised name.

No NER model can be installed offline here (spaCy's official models are not on PyPI), so names and
addresses are pattern/POS based: they catch self-introductions, surnamed names and street
addresses, not every name (docs/DESIGN-NOTES.md says so).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from vertical.core.text.scripts import HAN

PII_TYPES: tuple[str, ...] = ("email", "id_card", "phone", "address", "name")
PLACEHOLDERS = {"email": "[EMAIL]", "id_card": "[ID]", "phone": "[PHONE]", "address": "[ADDRESS]", "name": "[NAME]"}

EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z0-9\-])"
)
ID_CARD_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Digits may be glued to Chinese characters on both sides (我13812345678今天), never to other digits.
CN_MOBILE_RE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
PHONE_REGIONS = ("CN", "US", "GB")

_ADMIN = r"(?:省|自治区|特别行政区|市|区|县|旗|镇|乡|街道|村)"
_STREET = r"(?:大街|大道|胡同|路|街|巷|弄|道)"
ZH_ADDRESS_RE = re.compile(
    f"(?:[{HAN}]{{1,8}}?{_ADMIN})*[{HAN}0-9]{{1,12}}?{_STREET}[0-9]+(?:-[0-9]+)?号"
    f"(?:院|小区)?(?:[0-9A-Za-z]+(?:号楼|栋|幢|座|单元|层|楼|室|号))*"
)
EN_ADDRESS_RE = re.compile(
    r"(?<![\w-])\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|"
    r"Court|Ct|Way|Place|Pl|Terrace|Close)\.?(?:,?\s+(?:Apt|Apartment|Flat|Unit|Suite)\.?\s*\w+)?"
)
# The 100 most common surnames (about 85 % of the population) and common two-character ones.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
    "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段"
    "雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "令狐", "皇甫", "尉迟", "长孙")
TITLES = ("老师", "医生", "大夫", "先生", "女士", "小姐", "同学", "经理", "主任", "阿姨", "叔叔", "师傅", "总")
NOT_NAMES = {
    "老公",
    "老婆",
    "老板",
    "老家",
    "老人",
    "老师",
    "小孩",
    "小时",
    "小心",
    "小说",
    "阿姨",
    "老大",
    "老二",
    "阿妈",
    "阿媽",
    "阿爸",
    "阿公",
    "阿婆",
    "阿嬷",
}
# Who someone is to the speaker: a word tagged nr right after one of these is a name even if jieba's
# dictionary also lists it as a word (小雨, 李娜); without such a cue only words outside the
# dictionary count (its nr tags include 谢谢 and 毛巾).
ROLES = tuple(
    "老公 老婆 丈夫 妻子 爱人 男朋友 女朋友 男友 女友 闺蜜 同事 同学 朋友 室友 领导 上司 老板 经理 儿子 女儿 "
    "哥哥 姐姐 弟弟 妹妹 表哥 表姐 表妹 表弟 咨询师 医生 老师 邻居 和 跟 叫".split()
)
ZH_INTRO_RE = re.compile(f"(?:我叫|名叫|名字是|名字叫|我的名字是)([{HAN}]{{2,3}})")
EN_NAME_RE = re.compile(
    r"(?:(?i:my name is|my name's|i am called|call me)\s+|(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+)"
    r"([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)"
)
_HAN_RUN = re.compile(f"[{HAN}]+")

Span = tuple[int, int, str]  # start, end (exclusive), pii type


def id_card_valid(number: str) -> bool:
    """Mainland resident ID checksum (GB 11643, ISO 7064 MOD 11-2)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def _emails(text: str) -> Iterable[Span]:
    return ((m.start(), m.end(), "email") for m in EMAIL_RE.finditer(text))


def _id_cards(text: str) -> Iterable[Span]:
    return ((m.start(), m.end(), "id_card") for m in ID_CARD_RE.finditer(text) if id_card_valid(m.group()))


def _phones(text: str, lang: str | None) -> Iterable[Span]:
    import phonenumbers

    yield from ((m.start(), m.end(), "phone") for m in CN_MOBILE_RE.finditer(text))
    regions = PHONE_REGIONS if lang in (None, "zh") else (*PHONE_REGIONS[1:], PHONE_REGIONS[0])
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            yield match.start, match.end, "phone"


@lru_cache(maxsize=1)
def _posseg():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def _trim_address(text: str, start: int, end: int) -> int:
    """Move the start of a Chinese address match past leading words that are not place names (住在…)."""
    pos = start
    for word, flag in _posseg().cut(text[start:end]):
        if flag.startswith("ns") or re.fullmatch(f"[{HAN}]*{_ADMIN}|[{HAN}]*{_STREET}", word) or word[:1].isdigit():
            return pos
        pos += len(word)
    return start


def _addresses(text: str) -> Iterable[Span]:
    for m in ZH_ADDRESS_RE.finditer(text):
        yield _trim_address(text, m.start(), m.end()), m.end(), "address"
    yield from ((m.start(), m.end(), "address") for m in EN_ADDRESS_RE.finditer(text))


def _looks_like_zh_name(word: str) -> bool:
    if word in NOT_NAMES or not 2 <= len(word) <= 4:
        return False
    if word.startswith(COMPOUND_SURNAMES):
        return True
    if word[0] in SURNAMES:
        return len(word) <= 3 or word.endswith(TITLES)  # 4 characters: only surname + given name + title
    return len(word) == 2 and word[0] in "小阿老" and (word[0] != "老" or word[1] in SURNAMES)


def _in_dictionary(word: str) -> bool:
    import jieba

    return bool(jieba.dt.FREQ.get(word))


def _zh_names(text: str) -> Iterable[Span]:
    for run in _HAN_RUN.finditer(text):
        pos, previous = run.start(), ""
        for word, flag in _posseg().cut(run.group()):
            title = next((t for t in TITLES if word.endswith(t) and len(word) > len(t)), "")
            name = word[: len(word) - len(title)]
            if flag in ("nr", "nrfg") and _looks_like_zh_name(word):
                cued = bool(title) or previous.endswith(ROLES) or text[pos + len(word) : pos + len(word) + 2] in TITLES
                if cued or not _in_dictionary(word):
                    yield pos, pos + len(name), "name"
            pos += len(word)
            previous = word


def _names(text: str, known: Iterable[str] = ()) -> Iterable[Span]:
    for m in ZH_INTRO_RE.finditer(text):
        if _looks_like_zh_name(m.group(1)):
            yield m.start(1), m.end(1), "name"
    for m in EN_NAME_RE.finditer(text):
        yield m.start(1), m.end(1), "name"
    yield from _zh_names(text)
    for name in known:  # a name found anywhere in the conversation is scrubbed everywhere in it
        yield from ((m.start(), m.end(), "name") for m in re.finditer(re.escape(name), text))


def find_pii(
    text: str, lang: str | None = None, types: Iterable[str] = PII_TYPES, known_names: Iterable[str] = ()
) -> list[Span]:
    """Non-overlapping PII spans, earlier recognisers first (see the module docstring)."""
    wanted = set(types)
    finders = {
        "email": lambda: _emails(text),
        "id_card": lambda: _id_cards(text),
        "phone": lambda: _phones(text, lang),
        "address": lambda: _addresses(text),
        "name": lambda: _names(text, known_names),
    }
    taken: list[Span] = []
    for kind in PII_TYPES:
        if kind not in wanted:
            continue
        for start, end, found in sorted(finders[kind](), key=lambda s: (s[0], -s[1])):
            if start < end and all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, found))
    return sorted(taken)


def scrub(
    text: str, lang: str | None = None, types: Iterable[str] = PII_TYPES, known_names: Iterable[str] = ()
) -> tuple[str, dict[str, int]]:
    """``text`` with every PII span replaced by its placeholder, and the count per PII type."""
    spans = find_pii(text, lang, types, known_names)
    if not spans:
        return text, {}
    out, pos = [], 0
    for start, end, kind in spans:
        out += [text[pos:start], PLACEHOLDERS[kind]]
        pos = end
    out.append(text[pos:])
    return "".join(out), dict(Counter(kind for _, _, kind in spans))


def scrub_all(
    texts: list[str], lang: str | None = None, types: Iterable[str] = PII_TYPES
) -> tuple[list[str], dict[str, int]]:
    """Scrub the turns of one conversation together: a name recognised in one turn ("我闺蜜小雨") is
    also replaced where it appears without a cue ("小雨陪了我两个晚上")."""
    types = tuple(types)
    names: set[str] = set()
    if "name" in types:
        for text in texts:
            names |= {text[s:e] for s, e, kind in find_pii(text, lang, ("name",)) if kind == "name"}
    known = sorted(names, key=len, reverse=True)
    total: Counter = Counter()
    out = []
    for text in texts:
        new, counts = scrub(text, lang, types, known)
        out.append(new)
        total.update(counts)
    return out, dict(total)
