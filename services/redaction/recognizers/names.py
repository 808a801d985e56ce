"""Names from the conversation: "my name is …", "this is …", "Mr. …", and answers to "your name?".

spaCy's NER (through Presidio) finds many names; transcripts defeat it when the name follows a
cue it has not learned or arrives as a bare answer ("Maria Gonzalez." after "who am I speaking
with?"). Strong cues take the next words whatever their case; weak cues ("this is", "I'm") only
take capitalised words that are not ordinary English. Pure logic.
"""

from __future__ import annotations

import re

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.spoken import Token

DETECTOR = "names"

_STRONG = re.compile(
    r"\b(?:my name is|my name's|name is|name's|names is|first name is|last name is"
    r"|surname is|full name is|call me|under the name|the name is|name on the card is"
    r"|account holder is|spelled|goes by)\s+$")
_WEAK = re.compile(r"(?:^|[\s,.])(?:this is|i'm|i am|it's|its|speaking with|talking to|hi|hello"
                   r"|hey|thanks|thank you|bye|sorry|dear|with)\s+$")
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "mister", "doctor", "prof", "sir", "madam"})
# Words that end a name, or that a weak cue should never take for one.
_NOT_NAME = frozenset({
    "and", "or", "but", "from", "with", "calling", "here", "speaking", "i", "my", "the", "a",
    "an", "is", "was", "about", "regarding", "because", "so", "just", "actually", "again",
    "yes", "yeah", "no", "sure", "okay", "ok", "well", "um", "uh", "please", "sorry", "great",
    "fine", "good", "right", "correct", "that", "this", "it", "at", "on", "in", "for", "to",
    "not", "also", "still", "really", "very", "your", "our", "their", "there", "calling.",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "tomorrow", "tonight", "morning", "afternoon", "evening", "customer", "support", "service",
    "billing", "sales", "team", "everyone", "all", "you", "we", "they", "he", "she",
    "happy", "glad", "trying", "having", "looking", "wondering", "going", "done", "back",
    "ready", "new", "here.", "bank", "account", "card", "phone", "as", "of", "by", "now",
})
_MAX_WORDS = 3


def _take(toks: list[Token], i: int, need_caps: bool) -> int:
    """Index after the name words starting at ``i`` (``i`` when there are none)."""
    j = i
    while j < len(toks) and j - i < _MAX_WORDS:
        t = toks[j]
        if not t.text.isalpha() or t.low in _NOT_NAME or len(t.text) < 2:
            break
        if need_caps and not t.text[0].isupper():
            break
        j += 1
    return j


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        lead = view.text[max(0, toks[i].start - 40):toks[i].start].lower()
        j = i
        if _STRONG.search(lead):
            j = _take(toks, i, need_caps=False)
        elif _WEAK.search(lead) or (i > 0 and toks[i - 1].low.rstrip(".") in _TITLES) \
                or (i > 1 and toks[i - 1].text == "." and toks[i - 2].low in _TITLES):
            j = _take(toks, i, need_caps=True)
        if j > i:
            out.append(Finding("PERSON", toks[i].start, toks[j - 1].end, 0.8, DETECTOR))
            i = j
        else:
            i += 1
    if Topic.NAME in view.context.asked and not out:
        out.extend(_answer(view))
    return out


def _answer(view: View) -> list[Finding]:
    """The caller's reply to "what's your name?": capitalised words, or a short bare reply."""
    toks = [t for t in view.tokens if t.text.isalpha()]
    short = len(toks) <= 3
    out: list[Finding] = []
    for t in toks:
        if t.low in _NOT_NAME or len(t.text) < 2:
            continue
        if t.text[0].isupper() or short:
            out.append(Finding("PERSON", t.start, t.end, 0.7, DETECTOR))
    return out
