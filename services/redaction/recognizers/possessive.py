"""Names said as someone's: "i'm jerry's daughter", "here's doreen's address", "it's under
priya's account", "chloe's line", and without the apostrophe ASR drops: "kevins account". A
word with "'s" before a family word or a personal record is a person's name when the name
lists hold it as a first name or it is rare in English ("the doctor's address",
"the bank's number", "my mom's phone", "the clinic's appointment" stay). Pure logic; one
look at the token before each family or record word.
"""

from __future__ import annotations

from services.redaction.recognizers import names
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import is_rare, stop_words, zipf
from services.redaction.recognizers.places import NRP_WORDS, is_place

DETECTOR = "names"
_FAMILY = names._FAMILY  # relatives, as the name cues read them
_OWNED = _FAMILY | frozenset({
    "kid", "kids", "child", "children", "baby", "boy", "girl", "address", "number", "phone",
    "email", "birthday", "account", "card", "car", "house", "place", "apartment", "name",
    # a person's care, claims and bookings: "abena's prescription", "okafor's claim"
    "prescription", "prescriptions", "medication", "medications", "meds", "appointment",
    "appointments", "refill", "claim", "policy", "reservation", "booking", "records", "chart",
    # what an agent handles for someone named: "chloe's line", "hodan's forms", "shauna's note"
    # (not "order" or "bag": "my wendy's order", "the trader joe's bag" are shops')
    "line", "lines", "form", "forms", "note", "notes", "file", "paperwork", "application",
    "room", "flight", "ticket", "tickets", "payment", "payments", "statement", "case",
    "results", "plan", "device", "profile", "visit",
})
_UNWRITTEN = 2.5  # "kevins account": an owner's "s" without its apostrophe; not "agents"
_RARE_NAME = 2.5  # "oohara's", "inunnguaq's"; not "company's", "customer's"


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    for k in range(1, len(toks)):
        if toks[k].low not in _OWNED:
            continue
        t = toks[k - 1]
        low = t.low.replace("\u2019", "'")
        if low.endswith("s") and low.isalpha() and len(low) >= 4 and zipf(low) < _UNWRITTEN \
                and names.is_first_name(low[:-1]) and low[:-1] not in names.TRAPS:
            out.append(Finding("PERSON", t.start, t.end, 0.6, DETECTOR))  # "kevins account"
            continue
        if not low.endswith("'s") or len(low) < 4:
            continue
        bare = low[:-2]
        if not bare.isalpha() or bare in _FAMILY or bare in stop_words() or bare in NRP_WORDS \
                or is_place(bare):
            continue
        if names.is_first_name(bare) or is_rare(bare, _RARE_NAME):
            out.append(Finding("PERSON", t.start, t.start + len(bare), 0.6, DETECTOR))
    return out
