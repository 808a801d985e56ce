"""Names said to someone, and names an agent gives itself: the shapes of a whole call's turns.

- thanked or greeted by name: "thank you earl a crew is on the way", "thanks bill have a great
  day", "cheers ash", "hi penny", "Thank you, Echo."; after thanks a word-like first name
  ("bill", "earl") is the person thanked unless a word of thanks follows ("thank you so much",
  "thanks again") or a modal asks ("hey will you hold");
- named first in a cased sentence: "Sterling, I've locked the card.";
- asked for or sent a message: "tell grace i said thanks", "is june there", "can i speak to
  will please", "ask for hunter at the front desk";
- named at a sentence's end after a comma in cased text: "Is there anything else,
  Funmilayo?", "Have a wonderful trip, Soo-jin!" (a listed first name or a word rare in
  English, never a place: "in Dallas, Texas.");
- told something after an acknowledgement: "alright bill i see the balance", "so miles just
  to confirm", "all right mele your results are in" (a modal is a verb there: "okay will i be
  charged");
- an assistant's own name: "this is wren a virtual assistant", "thanks for calling acme this is
  raj can i get the account number", "this is will i will be the one paying" at a line's
  start; any word that is no function word, group or ordinary adjective.

Pure logic; each token looks at most six tokens around it, so the scan stays linear.
"""

from __future__ import annotations

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import rare_word, zipf
from services.redaction.recognizers.names import (
    _MODAL,
    TRAPS,
    extend,
    faker_first_names,
    is_first_name,
    listed_name,
)
from services.redaction.recognizers.places import NRP_WORDS, is_place, stop_words
from services.redaction.spoken import Token

DETECTOR = "names:vocative"
# Word-like first names no list holds, said to an agent or by an assistant of itself.
WORD_NAMES = frozenset({"ash", "echo", "sterling", "precious", "wren", "sage", "raven",
                        "birdie", "lark", "robin", "jade", "skye", "onyx"})
# What follows "thank you" and is no name: "thank you so much", "thanks again", "thank you
# ma'am", "thank you kindly", "thanks love".
_NOT_THANKED = frozenset({
    "so", "very", "much", "again", "all", "both", "everyone", "everybody", "anyway", "too",
    "though", "sir", "ma'am", "maam", "madam", "miss", "mister", "doctor", "officer", "love",
    "dear", "honey", "sweetie", "darling", "hon", "buddy", "man", "mate", "guys", "girl",
    "kindly", "bye", "god", "lord", "goodness", "heaven", "heavens", "jesus", "a", "for",
    "and", "but", "that", "then", "okay", "ok", "thank", "thanks", "you", "team", "folks",
    "bunch", "tons", "lots", "sweetheart", "friend", "brother", "sister", "boss", "chief",
    "pal", "bro", "dude", "champ", "lady", "ladies", "gentlemen", "ya", "y'all",
})
# What may follow the name of the one thanked: the line ends, or the speaker goes on with a
# new clause ("thank you earl a crew is on the way", "thanks bill have a great day").
_AFTER_THANKED = frozenset({
    ",", ".", "!", "?", "a", "the", "i", "i'm", "i'll", "i've", "we", "we'll", "you", "you're",
    "your", "have", "and", "so", "for", "bye", "goodbye", "take", "talk", "it's", "that's",
    "is", "please", "again", "very", "appreciate", "enjoy", "see", "let",
})
_THANKS = frozenset({"thanks", "cheers", "bye", "goodbye", "thx"})
_GREETINGS = frozenset({"hi", "hello", "hey", "morning", "afternoon", "evening", "welcome"})
_PRONOUNS = frozenset({"i", "we", "you", "it", "that", "they", "he", "she"})
_ACKS = frozenset({"okay", "ok", "alright", "right", "so", "well", "perfect", "great"})
# After an acknowledgement and a name, what the agent tells them.
_TOLD = frozenset({"i", "i'm", "i'll", "i've", "we", "we've", "we'll", "just", "your", "you're",
                   "let", "let's", "it", "it's", "that", "that's", "so"})
_OPENERS = frozenset({"hi", "hello", "hey", "yeah", "yes", "um", "uh", "oh", "so", "and",
                      "well", "okay", "ok"})
# After an assistant's name: "this is wren a virtual assistant", "this is raj can i …".
_AFTER_SELF = frozenset({"a", "an", "your", "can", "how", "what", "i", "and", "with", "from",
                         "speaking", "here", "calling", "at", "on", ",", ".", "!", "?",
                         "who", "may", "today", "i'm", "i'll"})
_UNHEARD = 2.5  # "Funmilayo", "Soojin"; not "Texas" or "Monday"
# After "tell <name>", the message: "tell grace i said thanks", "tell bill to call me".
_TOLD_BY = frozenset({"i", "we", "he", "she", "they", "that", "to", "i'm", "i'll", "we're",
                      "my", "thanks", "thank"})
_PRESENT = frozenset({"there", "available", "around", "home", "in", "back"})
_ASK = frozenset({"speak", "talk", "ask", "asking", "speaking", "talking", "transfer", "asked"})
_AFTER_ASKED = frozenset({"", "please", ",", ".", "?", "!", "at", "in", "from", "about", "when",
                          "if", "i", "she", "he", "directly", "today", "again"})
_TRUE_MODALS = frozenset({"will", "may", "might", "can"})
_OBJECTS = frozenset({"it", "that", "your", "them", "me", "us", "him", "her", "the", "this"})
_PLAIN = 4.0  # an agent's own unlisted name: rare in English, not "unacceptable"
_ADJECTIVES = frozenset({"young", "rich", "lucky", "noble", "royal", "major", "sandy", "rusty",
                         "stormy", "misty", "sunny", "honest", "brave", "free", "earnest",
                         "chance", "justice", "liberty", "love", "serenity", "glory", "bliss",
                         "promise", "hope", "faith", "harmony", "trinity", "journey", "page"})


def _name_word(t: Token) -> bool:
    """A word that can be a name: no group, and no place unless a first name ("sterling")."""
    return t.text.replace("'", "").isalpha() and len(t.text) >= 2 \
        and t.low not in NRP_WORDS and (not is_place(t.low) or _first_like(t.low))


def _first_like(low: str) -> bool:
    """A first name as said to someone: listed (word-like ones too) or a name word."""
    return is_first_name(low) or low in faker_first_names() or low in TRAPS \
        or low in WORD_NAMES


def _thanked(toks: list[Token], k: int) -> bool:
    """"thank you earl", "thanks bill have a great day", "cheers ash", "Thank you, Echo."."""
    j = k - 1
    if j >= 0 and toks[j].text == ",":
        j -= 1
    if j < 0 or not (toks[j].low in _THANKS or toks[j].low in _GREETINGS or (
            toks[j].low == "you" and j >= 1 and toks[j - 1].low == "thank")):
        return False
    t = toks[k]
    if t.low in _NOT_THANKED or t.low in _ADJECTIVES or not _name_word(t):
        return False
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    if (nxt and nxt not in _AFTER_THANKED) or (t.low in _TRUE_MODALS and nxt in _PRONOUNS):
        return False  # "hey will you hold on"
    if t.text[:1].isupper() and toks[j].text[:1].isupper() and toks[k - 1].text == ",":
        return t.low not in stop_words()  # "Thank you, Echo.": written as said to someone
    return _first_like(t.low) or (rare_word(t.low) and len(t.low) >= 4)


def _addressed_at_end(toks: list[Token], k: int) -> bool:
    """"Is there anything else, Funmilayo?", "Have a wonderful trip, Soo-jin!"."""
    t = toks[k]
    if k < 2 or toks[k - 1].text != "," or not t.text[:1].isupper() or t.text.isupper() \
            or not t.text.isalpha() or t.low in stop_words() or t.low in _NOT_THANKED:
        return False
    end, word = k + 1, t.low
    if end + 1 < len(toks) and toks[end].text == "-" and toks[end + 1].text.isalpha():
        end, word = end + 2, word + toks[end + 1].low  # "Soo-jin"
    if end < len(toks) and toks[end].text not in ("?", "!", "."):
        return False
    if word in NRP_WORDS or is_place(word):
        return False
    return is_first_name(word) or (rare_word(word) and zipf(word) < _UNHEARD)


def _addressed_first(toks: list[Token], k: int) -> bool:
    """"Sterling, I've locked the card.", "Rosa, your refund is on its way.": a capitalised
    first name opening a sentence, a comma, then what the person is told."""
    t = toks[k]
    if not (k == 0 or toks[k - 1].text in (".", "?", "!")) or k + 2 >= len(toks) \
            or toks[k + 1].text != "," or toks[k + 2].low not in _TOLD \
            or not t.text[:1].isupper() or t.text.isupper() or not _name_word(t) \
            or t.low in _ADJECTIVES or t.low in _NOT_THANKED:
        return False
    return is_first_name(t.low) or t.low in faker_first_names() or t.low in TRAPS \
        or t.low in WORD_NAMES


def _asked_for(toks: list[Token], k: int) -> bool:
    """"tell grace i said thanks", "is june there", "can i speak to will please", "ask for
    hunter at the front desk": a word-like first name asked for or sent a message."""
    t = toks[k]
    if k < 1 or not _name_word(t) or not _first_like(t.low) or t.low in _ADJECTIVES \
            or t.low in _NOT_THANKED:
        return False
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    if t.low in _TRUE_MODALS and nxt in _PRONOUNS:
        return False  # "can i talk to may i ask"
    lead = toks[k - 1].low
    if lead == "tell":
        return nxt in _TOLD_BY
    if lead == "is" and (k == 1 or toks[k - 2].low in _OPENERS or toks[k - 2].text in ",.?!"):
        after = toks[k + 2].low if k + 2 < len(toks) else ""
        return nxt in _PRESENT and after in ("", "?", ".", "please", "today", "right", "now")
    return lead in ("to", "with", "for") and k >= 2 and toks[k - 2].low in _ASK \
        and nxt in _AFTER_ASKED


def _acknowledged(toks: list[Token], k: int) -> bool:
    """"alright bill i see", "so miles just to confirm", "all right mele your results"."""
    if k < 1 or toks[k - 1].low not in _ACKS:
        return False
    j = k - 2
    if toks[k - 1].low == "right" and j >= 0 and toks[j].low == "all":
        j -= 1
    while j >= 0 and toks[j].low in _OPENERS:
        j -= 1
    if j >= 0 and toks[j].text not in (",", ".", "?", "!"):
        return False
    t = toks[k]
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    if nxt not in _TOLD or t.low in _ADJECTIVES or not _name_word(t) \
            or (t.low in stop_words() and t.low not in TRAPS):
        return False
    if t.low in _TRUE_MODALS and nxt in ("i", "we", "it", "that", "you", "i'm"):
        return False  # "okay will i be charged", "okay can we"
    if t.low in _MODAL and nxt in _OBJECTS:
        return False  # "so mark your calendar", "okay bill it to the card"
    return _first_like(t.low) or (rare_word(t.low) and len(t.low) >= 4)


def _self_named(view: View, toks: list[Token], k: int) -> bool:
    """"this is wren a virtual assistant", "thanks for calling acme this is raj can i …"."""
    if k < 2 or toks[k - 1].low != "is" or toks[k - 2].low != "this":
        return False
    t = toks[k]
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    if (nxt and nxt not in _AFTER_SELF) or not _name_word(t) or t.low in _ADJECTIVES \
            or (t.low in stop_words() and t.low not in TRAPS):
        return False
    if nxt in ("a", "an", "your"):  # "this is sage a virtual assistant"
        tail = {x.low for x in toks[k + 2:k + 5]}
        if tail & {"assistant", "agent", "representative", "rep", "specialist", "advisor"}:
            return zipf(t.low) < 5.0
    before = {x.low for x in toks[max(0, k - 8):k - 2]}
    opening = all(x.low in _OPENERS for x in toks[:k - 2])
    if not (opening or ("calling" in before and "for" in before) or "reached" in before):
        return False
    return _first_like(t.low) or listed_name(t.low) \
        or (view.is_agent and rare_word(t.low) and zipf(t.low) < _PLAIN)


_LEADS = _THANKS | _GREETINGS | _ACKS | frozenset({"you", ",", "is", "tell", "to", "with",
                                                  "for"})


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    for k, t in enumerate(toks):
        if len(t.text) < 2 or not t.text[0].isalpha():
            continue
        # every rule needs one of these words before the name, or a comma after it
        if (k == 0 or toks[k - 1].low not in _LEADS) \
                and (k + 1 >= len(toks) or toks[k + 1].text != ","):
            continue
        if _thanked(toks, k) or _addressed_at_end(toks, k) or _acknowledged(toks, k) \
                or _addressed_first(toks, k) or _asked_for(toks, k) \
                or _self_named(view, toks, k):
            first, last = extend(toks, k, k)
            out.append(Finding("PERSON", toks[first].start, toks[last].end, 0.6, DETECTOR))
    return out
