"""Names as ASR writes them down: East Asian names split into their romanized syllables ("i'm
lee seo yeon", "it's tran quoc bao"), a name the recognizer broke mid-word and the caller said
again whole ("it's ah med ahmed", "laquisha la quisha laquisha"), and a name corrected by the
caller ("greer no sorry grier"). Each syllable, each broken half is an ordinary token on its own,
so each rule needs its shape: a run of syllables after an introduction, halves that join into a
name said beside them, a near spelling after "sorry". Pure logic; every token looks a fixed
number of tokens ahead, so the scan stays linear.
"""

from __future__ import annotations

from services.redaction.context import Topic
from services.redaction.recognizers import names
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import stop_words, zipf
from services.redaction.spoken import Token

DETECTOR = "names:asr"

# Syllables of romanized Korean, Mandarin, Cantonese and Vietnamese given names and surnames,
# the ones said as separate words. Syllables that are everyday English words of their own
# ("man", "son", "do", "an", "ha", "ah") are left out.
_SYLLABLE_LINES = (
    "seo yeon ji min hyun jung jun woo soo su hee eun young yeong seung sung hye jin ho joon jae",
    "kyung mi na ra rin yun yoon seok sook chul dong hwa hoon hyuk jong kwang myung sang shin won",
    "bin gyu kim lee park choi jeong kang cho yoo jang lim han oh seong kwon hwang ahn hong jeon ko",
    "moon yang baek heo nam noh ryu ju bae byun gyeong ye da eui hyo",
    "wei xiao mei ling li wang zhang liu chen huang zhao wu zhou xu sun ma zhu hu guo lin luo zheng",
    "liang xie tang feng deng cao peng zeng xiong jiang pan cai yu du cheng wen hui jing ying yan",
    "fang xin jie qiang ming hao lei tao bo chao yi xue yue qing zhi hua lan fei qi xia shu rui zi",
    "lu kai ning ping chun qian ting jia xiu yong gang jian long",
    "chow wong chan cheung leung lau ng tsang kwok yip fung lam tse siu ka wai kit chi fai hing kwan",
    "yee mui sze tsz yuen chiu lui mak tam poon tong choy",
    "nguyen tran le pham hoang huynh phan vu vo dang bui ngo duong ly quoc bao thi van anh minh tuan",
    "hung thanh duc huong linh mai hoa trang thu hanh ngoc phuong quang khanh hai dung thao trung",
    "vinh hieu nhung thuy hien diep cuong hiep loan oanh tien toan vy yen",
)
SYLLABLES = frozenset(w for line in _SYLLABLE_LINES for w in line.split())
_MAX_SYLLABLES = 4
_SYLLABLE_RARE = 4.0  # one syllable of the run rarer than this: "seo", "quoc", not "long", "sun"
# What opens an introduction: "i'm …", "it's …", "my name is …", "this is …", "call me …".
_INTRO_ONE = frozenset({"i'm", "im", "it's", "its", "name's", "names"})
_INTRO_TWO = frozenset({("name", "is"), ("this", "is"), ("call", "me"), ("i", "am"),
                        ("name", "was"), ("with", "is")})
_LEAD_IN = frozenset({"yeah", "yes", "uh", "um", "oh", "sure", "so", "hi", "hello", "it's",
                      "its", "okay", "ok"})
_SPLIT_MIN = 5  # the whole word a broken name joins into: "ahmed", not "any way" → "anyway"
_NAME_RARE = 3.0
# What a caller says between a wrong name and its correction.
_REPAIRS = (("no", "sorry"), ("sorry",), ("i", "mean"), ("no", "no"), ("or", "rather"))
_NEAR = 2  # edits between the two spellings: "greer" / "grier", "catherine" / "kathryn" no


def _syllable(t: Token) -> bool:
    return t.low in SYLLABLES


def _introduced(toks: list[Token], k: int, asked: bool) -> bool:
    if k >= 1 and toks[k - 1].low in _INTRO_ONE:
        return True
    if k >= 2 and (toks[k - 2].low, toks[k - 1].low) in _INTRO_TWO:
        return True
    # the reply to "who am i speaking with": the line opens with the name, or with "yeah"
    return asked and all(t.low in _LEAD_IN for t in toks[:k])


def _syllable_run(toks: list[Token], k: int, asked: bool) -> int:
    """Index after a run of two to four name syllables at ``k`` after an introduction, one of
    them rarer than an everyday word ("seo yeon park"; not "it's long gone"), or ``k``."""
    j = k
    while j < len(toks) and j - k < _MAX_SYLLABLES and _syllable(toks[j]):
        j += 1
    if j - k < 2 or not _introduced(toks, k, asked):
        return k
    if not any(zipf(t.low) < _SYLLABLE_RARE for t in toks[k:j]):
        return k
    return j


def _namely(word: str) -> bool:
    """A word that can be a name only: listed, or rarer than English ("laquisha")."""
    return len(word) >= _SPLIT_MIN and word.isalpha() and word not in stop_words() and (
        names.listed_name(word) or zipf(word) < _NAME_RARE)


def _split(toks: list[Token], k: int) -> list[int]:
    """Tokens of a name broken in two at ``k``/``k+1`` and said whole beside the halves ("ah
    med ahmed", "laquisha la quisha"): their indices (halves and whole words), or none."""
    if k + 1 >= len(toks) or not (toks[k].text.isalpha() and toks[k + 1].text.isalpha()):
        return []
    whole = toks[k].low + toks[k + 1].low
    if not _namely(whole):
        return []
    near = [m for m in (k - 2, k - 1, k + 2, k + 3) if 0 <= m < len(toks) and toks[m].low == whole]
    return sorted([k, k + 1, *near]) if near else []


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of two short words, ``limit + 1`` once it is over ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _corrected(toks: list[Token], k: int) -> int:
    """Index of the corrected spelling of a name at ``k`` ("greer no sorry grier"), or -1."""
    a = toks[k]
    if not (a.text.isalpha() and len(a.text) >= 3) or a.low in stop_words():
        return -1
    for repair in _REPAIRS:
        m = k + 1 + len(repair)
        if m >= len(toks) or tuple(t.low for t in toks[k + 1:m]) != repair:
            continue
        b = toks[m]
        if not b.text.isalpha() or len(b.text) < 3 or b.low in stop_words() or b.low == a.low:
            continue
        if a.low[0] != b.low[0] or _edits(a.low, b.low, _NEAR) > _NEAR:
            continue
        if names.listed_name(a.low) or names.listed_name(b.low) \
                or (zipf(a.low) < _NAME_RARE and zipf(b.low) < _NAME_RARE):
            return m
    return -1


def _surname_after(toks: list[Token], k: int) -> int:
    """Index after a listed surname right after the name at ``k`` ("laquisha brown"), or
    ``k + 1``."""
    nxt = k + 1
    if nxt < len(toks) and names.is_last_name(toks[nxt].low):
        return nxt + 1
    return nxt


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    asked = Topic.NAME in view.context.asked
    out: list[Finding] = []
    taken = -1  # tokens up to here are in a finding already
    for k in range(len(toks)):
        if k <= taken:
            continue
        run = _syllable_run(toks, k, asked)
        if run > k:
            out.append(Finding("PERSON", toks[k].start, toks[run - 1].end, 0.7, DETECTOR))
            taken = run - 1
            continue
        parts = _split(toks, k)
        if parts:
            end = _surname_after(toks, parts[-1])
            for m in parts:
                out.append(Finding("PERSON", toks[m].start, toks[m].end, 0.7, DETECTOR))
            out.append(Finding("PERSON", toks[parts[-1]].start, toks[end - 1].end, 0.7,
                               DETECTOR))
            taken = end - 1
            continue
        m = _corrected(toks, k)
        if m >= 0:
            out.append(Finding("PERSON", toks[k].start, toks[k].end, 0.7, DETECTOR))
            out.append(Finding("PERSON", toks[m].start, toks[m].end, 0.7, DETECTOR))
            taken = m
    return out
