"""Deterministic call scripts: what is said, by whom, when, and how much of it was heard.

Pure: a seed in, a ``Script`` out, no I/O. Every script follows one plot (a billing call) with
seeded content and timings, so every session carries the situations the pipeline must handle:
spoken PII in caller turns (phone and card numbers as digits and as words, a spelled email and
surname, a street address, a date of birth), consent, a pause/resume around a card payment, a
completed agent turn that is cut later by a barge-in, an agent turn heard for 0 ms, and a tool call
preceded by "let me check that".

Timeline conventions (all in ms on the session timeline, 0 = session start):

- a caller turn's audio occupies ``[start_ms, end_ms)`` of the caller track;
- an agent turn's generated audio lasts ``end_ms - start_ms``; playback starts at ``start_ms``;
  ``heard_ms`` is how much of it the caller heard (``end_ms - start_ms`` when heard in full);
- ``status``: ``completed`` (heard in full), ``truncated`` (generation completed, playback cut by a
  barge-in), ``interrupted`` (generation cancelled by a barge-in, playback cut);
- a barge-in caller turn starts exactly at the cut: ``start_ms == agent.start_ms + heard_ms``;
- ``marker_ms`` is the offset within the turn of its marker tone (see ``audio.py``).
"""

from __future__ import annotations

import json
import random
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

MARKER_OFFSET_MS: Final = 100
CALLER_MS_PER_WORD: Final = (300, 380)
AGENT_MS_PER_WORD: Final = (310, 350)
MIN_TURN_MS: Final = 600

Ms = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Turn(_Model):
    index: int
    speaker: Literal["caller", "agent"]
    text: str
    start_ms: Ms
    end_ms: Ms
    heard_ms: Ms | None  # agent turns only
    marker_ms: Ms
    status: Literal["completed", "truncated", "interrupted"] = "completed"

    @property
    def turn_id(self) -> str:
        return f"t{self.index}"

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


class ToolCallSpec(_Model):
    call_id: str
    name: str
    arguments: str  # JSON text
    result: str  # JSON text
    at_ms: Ms  # when the model asked for it
    result_ms: Ms  # when the gateway returned the result
    after_turn: int  # the agent turn that said "let me check that"


class SystemMark(_Model):
    type: Literal["consent.granted", "consent.declined", "recording.paused", "recording.resumed"]
    at_ms: Ms
    scope: Literal["recording", "transcription", "training"] | None = None


class Script(_Model):
    seed: str
    turns: list[Turn]
    tool_calls: list[ToolCallSpec]
    system_events: list[SystemMark]
    duration_ms: Ms
    caller_phone_e164: str
    customer_id: str
    caller_email: str | None = None


_FIRST = ["Anna", "John", "Maria", "David", "Priya", "Tomasz", "Grace", "Luis", "Mei", "Omar"]
_LAST = ["Kowalski", "Smith", "Nguyen", "Okafor", "Fernandez", "Schmidt", "Haddad", "Larsen"]
_DOMAINS = ["gmail", "yahoo", "outlook", "proton"]
_STREETS = ["Baker Street", "Maple Avenue", "Elm Road", "Harbor Drive", "Sunset Boulevard"]
_CITIES = ["Springfield", "Riverton", "Fairview", "Lakewood", "Greenville"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_ORDINALS = {1: "first", 2: "second", 3: "third", 21: "twenty-first", 22: "twenty-second",
             23: "twenty-third", 31: "thirty-first"}
_DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_COMPANIES = ["Northwind Energy", "Bluebird Telecom", "Acme Utilities", "Harbor Bank"]
# Test card numbers from public card-network documentation: Luhn-valid, never real accounts.
_CARDS = ["4111111111111111", "4242424242424242", "5555555555554444", "4000056655665556"]


def _ordinal(day: int) -> str:
    if day in _ORDINALS:
        return _ORDINALS[day]
    return f"{day}th"


def digits_as_words(digits: str, rng: random.Random) -> str:
    """Spoken digits; callers say "oh" for zero about half the time."""
    zero = "oh" if rng.random() < 0.5 else "zero"
    return " ".join(zero if d == "0" else _DIGIT_WORDS[int(d)] for d in digits)


def spelled(word: str) -> str:
    return " ".join(word.upper())


def _words(text: str) -> int:
    return max(1, len(text.split()))


class _Clock:
    """Builds turns one after another, keeping the timeline and the rng together."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = 0
        self.turns: list[Turn] = []

    def duration(self, text: str, speaker: str) -> int:
        lo, hi = CALLER_MS_PER_WORD if speaker == "caller" else AGENT_MS_PER_WORD
        per_word = self.rng.randint(lo, hi)
        return max(MIN_TURN_MS, _words(text) * per_word)

    def caller(self, text: str, *, gap: tuple[int, int] = (300, 900),
               at: int | None = None) -> Turn:
        start = at if at is not None else self.now + self.rng.randint(*gap)
        end = start + self.duration(text, "caller")
        return self._add(Turn(index=len(self.turns), speaker="caller", text=text, start_ms=start,
                              end_ms=end, heard_ms=None, marker_ms=MARKER_OFFSET_MS))

    def agent(self, text: str, *, gap: tuple[int, int] = (600, 1000), heard_frac: float = 1.0,
              status: Literal["completed", "truncated", "interrupted"] = "completed") -> Turn:
        start = self.now + self.rng.randint(*gap)
        duration = self.duration(text, "agent")
        heard = duration if status == "completed" else int(duration * heard_frac)
        turn = Turn(index=len(self.turns), speaker="agent", text=text, start_ms=start,
                    end_ms=start + duration, heard_ms=heard, marker_ms=MARKER_OFFSET_MS,
                    status=status)
        self.turns.append(turn)
        # After a cut, the timeline moves on from the cut, not from the end of generated audio.
        self.now = start + heard
        return turn

    def _add(self, turn: Turn) -> Turn:
        self.turns.append(turn)
        self.now = max(self.now, turn.end_ms)
        return turn


def build_script(seed: str, *, phone_e164: str | None = None, email: str | None = None,
                 customer_id: str | None = None) -> Script:
    """One billing call. Same seed, same script. A given subject (``--subject-phone`` …) replaces
    the random caller's: it goes into ``session.started`` and the caller speaks it."""
    rng = random.Random(seed)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    company = rng.choice(_COMPANIES)
    phone = f"415555{rng.randint(100, 199):04d}"
    country = "+1"
    if phone_e164:
        country, phone = phone_e164[:-10] or "+", phone_e164[-10:]
    dob_day, dob_year = rng.choice([1, 2, 3, 14, 21, 22, 28, 31]), rng.randint(1950, 2002)
    dob = f"{rng.choice(_MONTHS)} {_ordinal(dob_day)}, {dob_year}"
    email_user, domain = f"{first.lower()} dot {last.lower()}", rng.choice(_DOMAINS)
    spoken_email = None
    if email:
        local, _, host = email.lower().partition("@")
        spoken_email = (" dot ".join(spelled(part) for part in local.split("."))
                        + f" at {host.replace('.', ' dot ')}")
    card = rng.choice(_CARDS)
    address = (f"{rng.randint(10, 9999)} {rng.choice(_STREETS)}, {rng.choice(_CITIES)}, "
               f"{rng.randint(10000, 99999)}")
    expiry = f"{rng.randint(1, 12):02d}{rng.randint(27, 32)}"
    balance = f"{rng.randint(20, 480)} dollars and {rng.randint(1, 99)} cents"
    training = rng.random() < 0.6

    c = _Clock(rng)
    marks: list[SystemMark] = []
    c.agent(f"Thank you for calling {company}. This call is recorded for quality and training. "
            "Is that okay with you?", gap=(200, 400))
    consent = c.caller(rng.choice(["Yes, that's fine.", "Sure, go ahead.", "Yeah, that's okay."]))
    for scope in ("recording", "transcription"):
        marks.append(SystemMark(type="consent.granted", at_ms=consent.end_ms + 50, scope=scope))
    marks.append(SystemMark(type="consent.granted" if training else "consent.declined",
                            at_ms=consent.end_ms + 60, scope="training"))
    c.agent("Great. Can I have your full name, please?")
    c.caller(f"It's {first} {last}, that's {spelled(last)}.")
    c.agent("Thank you. And your date of birth and a phone number we can reach you on?")
    grouped = f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    c.caller(f"I was born on {dob}. My number is {grouped}, so that's "
             f"{digits_as_words(phone, rng)}.")
    long_turn = c.agent(
        "I can see an account under that number. Before we go on, let me walk you through the "
        "options we have for your plan this month, including the autopay discount, the paper "
        "billing fee and the new loyalty credit that applies to your account.",
        status="truncated", heard_frac=rng.uniform(0.4, 0.8))
    said_email = spoken_email or (f"{spelled(email_user.split(' dot ')[0])} dot "
                                  f"{email_user.split(' dot ')[1]} at {domain} dot com")
    c.caller(f"Sorry to interrupt, my email is {said_email}, and the card on file is "
             f"{' '.join(card[i:i + 4] for i in range(0, 16, 4))}.",
             at=long_turn.start_ms + (long_turn.heard_ms or 0))
    check = c.agent(rng.choice(["Okay, let me check that.", "Sure, let me check that for you."]))
    call_at = check.end_ms + rng.randint(50, 200)
    result_at = call_at + rng.randint(300, 900)
    email = email.lower() if email else f"{first}.{last}@{domain}.com".lower()
    tool = ToolCallSpec(
        call_id=f"call_{rng.getrandbits(64):016x}", name="lookup_account",
        arguments=json.dumps({"phone": country + phone, "email": email},
                             separators=(",", ":")),
        result=json.dumps({"found": True,
                           "customer_id": customer_id or f"cus_{rng.getrandbits(40):010x}",
                           "balance": balance}, separators=(",", ":")),
        at_ms=call_at, result_ms=result_at, after_turn=check.index)
    c.now = result_at
    zero = c.agent(f"I found your account. Your balance is {balance}, and your next bill is due "
                   "on the fifteenth.", gap=(400, 700), status="interrupted", heard_frac=0.0)
    c.caller(f"Wait, I also moved recently. My new address is {address}.", at=zero.start_ms)
    c.agent("Thanks, I've updated your address. To take the payment securely I'll pause the "
            "recording now.")
    marks.append(SystemMark(type="recording.paused", at_ms=c.now + 100))
    c.caller(f"Okay. The card number is {digits_as_words(card, rng)}, expiring "
             f"{digits_as_words(expiry, rng)}.")
    c.agent("Thank you, the payment went through. I'm resuming the recording.")
    marks.append(SystemMark(type="recording.resumed", at_ms=c.now + 100))
    c.caller(rng.choice(["Great, thanks. That's all.", "Perfect, thank you so much."]))
    c.agent("You're welcome. Have a good day, goodbye!")
    # Whole seconds, so every provider's fixed frame size (20 ms … 250 ms) divides the session.
    duration = -(-(c.now + rng.randint(300, 700)) // 1000) * 1000
    return Script(seed=seed, turns=c.turns, tool_calls=[tool], system_events=marks,
                  duration_ms=duration, caller_phone_e164=country + phone,
                  customer_id=json.loads(tool.result)["customer_id"],
                  caller_email=email if spoken_email else None)
