"""Dialogue context: what a turn is asking for or talking about.

The agent's previous turn ("what's your card number?", "can you spell your last name?") tells us
what the caller's next turn most likely holds, so a bare "seven three seven" after "and the
security code?" is a CVV, while the same words elsewhere are a quantity. The same cues, read in the
few words before a number inside one utterance, label that number. Pure logic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Topic(StrEnum):
    PHONE = "phone"
    CARD = "card"
    CVV = "cvv"
    EXPIRY = "expiry"
    SSN = "ssn"
    ACCOUNT = "account"
    ROUTING = "routing"
    ZIP = "zip"
    DOB = "dob"
    NAME = "name"
    SPELL = "spell"
    EMAIL = "email"
    ADDRESS = "address"
    LAST_FOUR = "last_four"
    PASSPORT = "passport"
    LICENSE = "license"
    MEDICAL = "medical"
    NHS = "nhs"
    ITIN = "itin"
    IBAN = "iban"
    IP = "ip"
    URL = "url"
    CRYPTO = "crypto"
    LOCATION = "location"
    ETHNICITY = "ethnicity"


# Order matters only for readability; every matching topic is reported.
_CUES: tuple[tuple[Topic, re.Pattern[str]], ...] = tuple(
    (topic, re.compile(pattern)) for topic, pattern in (
        (Topic.PHONE, r"\b(phone|cell|mobile|callback|call ?back|reach (you|me)|telephone"
                      r"|contact number|text me|call me at)\b"),
        (Topic.CARD, r"\b(card|visa|master ?card|amex|american express|discover)\b"),
        (Topic.CVV, r"\b(cvv|cvc|cv2|security code|three digit|3 digit|four digit code"
                    r"|back of the card)\b"),
        (Topic.EXPIRY, r"\b(expir\w*|exp|exp date|valid thru|valid through)\b"),
        (Topic.SSN, r"\b(social|ssn|social security|tax id|taxpayer)\b"),
        (Topic.ACCOUNT, r"\b(account|acct|iban|member id|member number|policy number"
                        r"|customer number|customer id)\b"),
        (Topic.ROUTING, r"\b(routing|aba|transit number|sort code)\b"),
        (Topic.ZIP, r"\b(zip|postal|post ?code)\b"),
        (Topic.DOB, r"\b(born|birth|birthday|dob|d o b|date of birth|birthdate)\b"),
        (Topic.NAME, r"\b(your name|full name|first name|last name|surname|maiden name"
                     r"|who am i speaking|who i'm speaking|who is calling|who's calling"
                     r"|who am i talking|who do i have|pleasure of speaking|who is this"
                     r"|spell (it|that|your)|name on the|whose name|what name|which name"
                     r"|account ?holder|policy ?holder|card ?holder|patient'?s name"
                     r"|beneficiary|who('s| is| will be) (traveling|travelling)"
                     r"|who (should|can) i (ask|speak) for)\b"),
        (Topic.SPELL, r"\b(spell|spelled|spelt|letter by letter)\b"),
        (Topic.EMAIL, r"\b(email|e-mail|e mail)\b"),
        (Topic.ADDRESS, r"\b(address|street|where do you live|billing address"
                        r"|shipping address|mailing address)\b"),
        (Topic.LAST_FOUR, r"\b(last (four|4)|final (four|4)|ending in)\b"),
        (Topic.PASSPORT, r"\bpassports?\b"),
        (Topic.LICENSE, r"\b(driver'?s?|driving|dl|d l|licen[cs]es?|licen[cs]e'?s"
                        r"|permit number|state id|id card number)\b"),
        (Topic.MEDICAL, r"\b(medical licen[cs]e|npi|dea|prescriber|provider (number|id)"
                        r"|state licen[cs]e|board licen[cs]e|nursing licen[cs]e)\b"),
        (Topic.NHS, r"\b(nhs|n h s|national health)\b"),
        (Topic.ITIN, r"\b(itin|i t i n|individual taxpayer|taxpayer identification)\b"),
        (Topic.IBAN, r"\b(iban|i b a n|international bank)\b"),
        (Topic.IP, r"\b(ip|i p|ip address|router address)\b"),
        (Topic.URL, r"\b(website|web site|url|web address|homepage|home page|link)\b"),
        (Topic.CRYPTO, r"\b(bitcoin|btc|wallet|ethereum|eth|crypto\w*)\b"),
        (Topic.LOCATION, r"\b(where (do|did) you (live|grow up)|what (city|town)|which (city|town)"
                         r"|where are you (calling|located|based|from)|where you('re| are) from"
                         r"|city|town|located|current location|state do you live"
                         # any "where" question, and the places a trip or a claim asks for
                         r"|where|county|parish|province|destination|garaged"
                         r"|(traveling|travelling|flying|headed|heading) to)\b"),
        # a form's question of race or origin: the short reply is a group ("white", "black")
        (Topic.ETHNICITY, r"\b(ethnicity|ethnic|race|racial)\b"),
    )
)
# "the card was declined", "your account is active": a noun alone is not a question. The agent's
# turn raises confidence only when it asks (or confirms) something.
# ASR often drops the question mark: "who's the account holder", "and your zip".
_ASKS = re.compile(r"\?|\b(what|what's|whats|can i|could i|may i|can you|could you|please"
                   r"|tell me|give me|read|confirm|verify|go ahead|provide|need|spell"
                   r"|who|who's|whose|which|where|and your|and the|verification"
                   r"|when (?:was|were|did|is|does|do|will))\b")
# A prompt of a few words is a question without its question word, as ASR drops the mark:
# "date of birth", "license number", "email".
# "your card was declined" states, it does not ask.
_PROMPT_WORDS = 6  # "the lead passenger's date of birth"
_STATES = frozenset({"is", "was", "are", "were", "has", "have", "had", "been", "will", "got"})


@dataclass(frozen=True, slots=True)
class Context:
    """Topics the agent's previous turn asked about (empty outside a dialogue)."""

    asked: frozenset[Topic] = field(default_factory=frozenset)
    # The agent asked when something happened ("date of loss", "when did he pass"): the words
    # of its question, lower case, for recognizers that read events (``dates.py``).
    question: str = ""

    def __contains__(self, topic: object) -> bool:
        return topic in self.asked


NO_CONTEXT = Context()


def topics(text: str) -> frozenset[Topic]:
    low = text.lower()
    return frozenset(t for t, rx in _CUES if rx.search(low))


def from_agent_turn(agent_text: str | None) -> Context:
    if not agent_text:
        return NO_CONTEXT
    low = agent_text.lower()
    words = low.split()
    if not _ASKS.search(low) and (len(words) > _PROMPT_WORDS or _STATES.intersection(words)):
        return NO_CONTEXT
    return Context(topics(agent_text), low)
