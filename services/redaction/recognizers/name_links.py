"""Names known by the company they keep: a word the name lists hold, said in a list with a name
found ("centeno and woods", "Gregersen, White and Harris", "amber ian lori"), said as someone's
work ("though bell's song was about a boat"), or named by a verb of saying or billing at the
clause's end ("says mclean", "starring collins"). Each word is ordinary English too ("woods",
"white", "bell"), so none is taken without its cue. Pure logic; each found name looks a few
words each way, each token is taken at most once, so the scan stays linear.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.redaction.recognizers import names
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import is_rare, stop_words, zipf
from services.redaction.recognizers.places import NRP_WORDS
from services.redaction.spoken import Token

DETECTOR = "names"
_LINKS = frozenset({"and", ",", "&"})
_LINK_WORDS = 2  # ", and"
# What may follow a word-like name in a list ("woods were", "victor julie"); after a trap name
# ("will", "grace", "mark") anything else makes it the word ("john and mark the date").
_AFTER = names._AFTER_NAME | _LINKS | frozenset({"were", "are", "have", "both", "."})
# A person's works and people: "washington's song", "christian's kid".
_WORKS = frozenset({"song", "songs", "book", "books", "novel", "novels", "film", "films",
                    "movie", "movies", "album", "albums", "poem", "poems", "music", "lyrics",
                    "painting", "paintings", "kid", "kids", "wife", "husband", "son",
                    "daughter", "son's", "mother", "father", "family", "address"})
_BEFORE_OWNER = frozenset({"the", "a", "an", "this", "that", "my", "your", "our", "his", "her",
                           "their", "its", "every", "each", "no", "some", "any"})
# Verbs whose object at a clause's end is a person: "says mclean", "starring collins".
_CREDIT = frozenset({"says", "said", "starring", "featuring", "feat", "asked", "replied",
                     "wrote", "adds", "added", "explains", "explained", "recalls", "recalled"})
_PERSON_NOUNS = frozenset({"passenger", "driver", "guest", "client", "patient", "caller",
                           "customer", "holder", "owner", "beneficiary", "contact", "tenant",
                           "name"})
_EVERYDAY = 4.5  # "it's rose gold", "it's hope springs": the second word too common
_RARE_LAST = 4.0
_LAST_ITEM = 4.0  # "dev" 3.8 ends a list of names; "bread", "tech" do not
_CLAUSE_END = frozenset({".", ",", "!", "?", ";", ":"})


def _word(t: Token) -> bool:
    bare = t.text.replace("'", "").replace("\u2019", "")
    return bare.isalpha() and len(t.text) >= 2 and t.low not in stop_words() \
        and t.low not in NRP_WORDS


def _name_like(toks: list[Token], k: int, names_at: set[int] | None = None) -> bool:
    """A listed or surname-like word at ``k`` that the words after it leave a name (a name
    found next, ``names_at``, does)."""
    t = toks[k]
    if not _word(t) or not (names.listed_name(t.low) or names.surname_like(t)):
        return False
    nxt = toks[k + 1].low if k + 1 < len(toks) else "."
    if t.low in names.TRAPS or t.low in names._MODAL:  # "john and will you", "grace period"
        return nxt in _AFTER or (names_at is not None and k + 1 in names_at)
    return True


def _lead(toks: list[Token], k: int) -> str:
    """The lead-in ending before ``k``: "intro" ("this is", "the driver was"), "its" ("it's",
    "yeah it's") or ""."""
    if k >= 2 and toks[k - 1].low in ("is", "was") \
            and (toks[k - 2].low == "this" or toks[k - 2].low in _PERSON_NOUNS):
        return "intro"
    return "its" if k >= 1 and toks[k - 1].low in ("it's", "its") else ""


def _introduced(toks: list[Token], k: int) -> int:
    """Index after a first and last name said after an introduction and ending its clause
    ("the passenger is rose baker", "yeah it's hope sterling", "this is paddy o'shaughnessy"),
    or ``k``. Word-like pairs ("it's rose gold", "this is grace period") stay."""
    lead = _lead(toks, k)
    if not lead or (k + 2 < len(toks) and toks[k + 2].low not in names._INTRO_END):
        return k
    if k + 1 >= len(toks) or not (_word(toks[k]) and _word(toks[k + 1])):
        return k
    a, b = toks[k].low, toks[k + 1]
    listed_first = a in names.faker_first_names() or a in names.TRAPS or names.is_first_name(a)
    last = names.listed_name(b.low) or names.surname_like(b)
    if listed_first and last and (lead == "intro" or zipf(b.low) < _EVERYDAY):
        return k + 2
    if zipf(a) < _EVERYDAY and names.is_last_name(b.low) and is_rare(b.low, _RARE_LAST):
        return k + 2  # "paddy o'shaughnessy": an unlisted nickname, a rare listed surname
    return k


def _last_in_list(toks: list[Token], k: int) -> bool:
    """An unlisted word less common than everyday English ending the line after "… and" a
    name found ("our kids anika and dev", "with tomasz and ife"): the list's last name."""
    t = toks[k]
    return toks[k - 1].low == "and" and _word(t) and zipf(t.low) < _LAST_ITEM \
        and (k + 1 == len(toks) or toks[k + 1].low in _CLAUSE_END)


def coordinated_names(view: View, found: Sequence[Finding]) -> list[Finding]:
    """Names said in a list with a name found, whoever found it."""
    if not found:
        return []
    toks = view.tokens
    first_at = {t.start: k for k, t in enumerate(toks)}
    last_at = {t.end: k for k, t in enumerate(toks)}
    taken: set[int] = set()
    todo = [(first_at[f.start], last_at[f.end]) for f in found
            if f.entity_type == "PERSON" and f.start in first_at and f.end in last_at]
    for a, b in todo:
        taken.update(range(a, b + 1))
    out: list[Finding] = []
    while todo:
        a, b = todo.pop()
        for step, edge in ((1, b), (-1, a)):
            k = edge + step
            while 0 <= k < len(toks) and abs(k - edge) <= _LINK_WORDS and toks[k].low in _LINKS:
                k += step
            if not 0 <= k < len(toks) or k in taken:
                continue
            linked = k != edge + step
            # Without a link only a first name joins a run of names ("amber ian lori").
            first = names.is_first_name(toks[k].low) or toks[k].low in names.faker_first_names()
            if (_name_like(toks, k, taken) and (linked or first)) \
                    or (linked and step == 1 and _last_in_list(toks, k)):
                taken.add(k)
                todo.append((k, k))
                out.append(Finding("PERSON", toks[k].start, toks[k].end, 0.6, DETECTOR))
    return out


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    for k, t in enumerate(toks):
        pair = _introduced(toks, k)
        if pair > k:
            out.append(Finding("PERSON", t.start, toks[pair - 1].end, 0.6, DETECTOR))
            continue
        low = t.low.replace("\u2019", "'")
        if low.endswith("'s") and k + 1 < len(toks) and toks[k + 1].low in _WORKS \
                and (k == 0 or toks[k - 1].low not in _BEFORE_OWNER):
            bare = low[:-2]
            if bare.isalpha() and len(bare) >= 2 and bare not in stop_words() \
                    and names.listed_name(bare):
                out.append(Finding("PERSON", t.start, t.start + len(bare), 0.6, DETECTOR))
        elif k > 0 and toks[k - 1].low in _CREDIT and _name_like(toks, k) \
                and (k + 1 == len(toks) or toks[k + 1].low in _CLAUSE_END):
            out.append(Finding("PERSON", t.start, t.end, 0.6, DETECTOR))
    return out
