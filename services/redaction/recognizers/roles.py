"""Names said beside what vouches for them rather than after a "my name is": a name between a
person's role and what they said or did ("the tow truck guy rusty said it's totalled", "the
adjuster pete never called back"), and a name after a naming verb that is a name whatever its
case ("i go by rocky", "she's known as bea").

The word must be a name on a list (word-like names included: "rusty", "joy") or a rare word,
so "the lady downstairs said" and "i go by car" stay. Pure logic; each rule looks at most three
tokens ahead of each token, so it stays linear.
"""

from __future__ import annotations

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import rare_word
from services.redaction.recognizers.names import listed_name
from services.redaction.recognizers.places import NRP_WORDS, stop_words

DETECTOR = "roles"
# Nouns for someone by what they do or are to the caller.
_ROLES = frozenset({
    "guy", "lady", "man", "woman", "gentleman", "girl", "fellow", "adjuster", "agent", "rep",
    "representative", "nurse", "technician", "tech", "driver", "officer", "manager",
    "supervisor", "neighbor", "neighbour", "landlord", "landlady", "mechanic", "contractor",
    "plumber", "electrician", "receptionist", "pharmacist", "clerk", "cashier", "teller",
    "banker", "broker", "realtor", "caseworker", "therapist", "dentist", "inspector", "courier",
    "installer", "surveyor", "appraiser", "attendant", "operator", "associate", "specialist",
    "coordinator", "assistant", "roommate", "friend", "cousin", "boss", "coworker", "colleague",
})
# What follows a name said beside a role: a verb of saying or doing to the caller.
_DID = frozenset({
    "said", "says", "told", "tells", "called", "calls", "asked", "asks", "mentioned",
    "promised", "explained", "wrote", "emailed", "texted", "confirmed", "gave", "sent",
    "never", "hung", "helped", "came", "showed", "fixed", "quoted", "recommended", "approved",
    "denied", "refused", "handles", "handled", "set", "signed", "booked", "saw",
})
# After these, the next word is the name a person is called by.
_NAMING = frozenset({("go", "by"), ("goes", "by"), ("went", "by"), ("known", "as"),
                     ("nickname", "is"), ("nickname's", ""), ("nicknamed", "")})


def _namelike(low: str) -> bool:
    return low.isalpha() and low not in stop_words() and low not in NRP_WORDS \
        and (listed_name(low) or rare_word(low))


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if k + 2 < len(toks) and tok.low in _ROLES and toks[k + 2].low in _DID \
                and _namelike(toks[k + 1].low):
            out.append(Finding("PERSON", toks[k + 1].start, toks[k + 1].end, 0.6, DETECTOR))
            continue
        nxt = toks[k + 1].low if k + 1 < len(toks) else ""
        at = k + 1 if (tok.low, "") in _NAMING else k + 2 if (tok.low, nxt) in _NAMING else 0
        if 0 < at < len(toks) and _namelike(toks[at].low):
            out.append(Finding("PERSON", toks[at].start, toks[at].end, 0.6, DETECTOR))
    return out
