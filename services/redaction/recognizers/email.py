"""Email addresses, written ("j.smith@gmail.com") or spoken ("john dot smith at gmail dot com").

The utterance is rewritten into written form ("dot" → ".", "at" → "@", "underscore" → "_", digit
words → digits, spelled letters joined) with a map from every written character back to the
words that produced it; a plain email pattern then runs on the written form. Pure logic.
"""

from __future__ import annotations

import re

from services.redaction.recognizers.base import Finding, View
from services.redaction.spoken import UNITS, Token

DETECTOR = "email"

_SYMBOLS = {"dot": ".", "period": ".", "point": ".", "at": "@", "underscore": "_",
            "dash": "-", "hyphen": "-", ".": ".", "@": "@", "_": "_", "-": "-", "+": "+"}
# Spoken TLDs are whole words; a "dot" followed by anything else is not an address.
_TLDS = ("com|net|org|edu|gov|mil|io|co|us|uk|ca|de|fr|es|it|nl|au|in|info|biz|me|ai|app|dev"
         "|tech|online|store|xyz|ie|nz|ch|se|no|dk|fi|pl|br|mx|jp|cn|eu|tv|cloud|email|mail|be")
# Country-code TLDs beyond those (ISO 3166 codes and a few territories, ".hu", ".fm", ".gl"),
# minus codes that are also English words ("at", "to", "my", "id", "im", "ma"): "met at noon
# point to" is no address.
_CCTLDS = ("ac|ad|ae|af|ag|ao|ar|aw|ax|az|ba|bb|bd|bf|bg|bh|bi|bj|bm|bn|bo|bs|bt|bw|bz|cc|cd|cf|"
           "cg|ci|cl|cm|cr|cu|cv|cw|cx|cy|cz|dj|dm|dz|ec|ee|eg|er|et|fj|fm|fo|ga|gb|gd|ge|gf|gg|"
           "gh|gi|gl|gm|gn|gp|gq|gr|gt|gw|gy|hk|hn|hr|ht|hu|il|iq|ir|je|jm|jo|ke|kg|kh|ki|km|kn|"
           "kp|kr|kw|ky|kz|lb|lc|li|lk|lr|ls|lt|lu|lv|ly|mc|md|mg|mh|mk|ml|mm|mn|mo|mq|mt|mu|mv|"
           "mw|mz|na|nc|ne|nf|ng|ni|np|nr|nu|om|pe|pf|pg|ph|pk|pm|pr|ps|pt|pw|py|qa|ro|rs|ru|rw|"
           "sa|sb|sc|sd|sg|sh|si|sk|sl|sm|sn|sr|sv|sy|sz|td|tg|th|tj|tk|tl|tm|tn|tr|tt|tw|tz|ua|"
           "ug|uy|uz|va|vc|ve|vg|vn|vu|wf|ws|yt|za|zm|zw")
# Linear time: a match may only start where a run of local-part characters starts (the
# lookbehind), its leading punctuation skipped, so no run is rescanned from each of its
# positions ("a" * 20000 + "@b" took 5 s that way); the host's labels are split by dots, which
# the label class excludes, so their backtracking is bounded by the host's length.
_EMAIL = re.compile(
    r"(?<![a-z0-9._+-])[._+-]*"
    r"(?P<email>[a-z0-9](?:[a-z0-9._+-]*[a-z0-9])?@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    rf"(?:\.[a-z0-9-]+)*\.(?:{_TLDS}|{_CCTLDS})(?![a-z0-9]))")
# Words that end a local part when walking left: the lead-in, not the address.
_LEAD_IN = frozenset({
    "is", "it's", "its", "email", "e", "mail", "address", "my", "to", "me", "send", "the", "use",
    "was", "and", "or", "it", "that", "yes", "yeah", "sure", "so", "um", "uh", "okay", "ok",
    "please", "at", "reach", "on", "under", "as", "with", "from", "contact", "i", "write",
})


# "the page at support dot acme dot com", "my blog at jane dot blog dot com": a web address
# said after "at", not an email's local part.
_WEB_NOUNS = frozenset({
    "page", "site", "website", "web", "blog", "link", "portal", "url", "online", "partner",
    "partners", "store", "shop", "us", "them", "here", "there", "found", "posted", "listed",
    "app", "forum", "login", "homepage", "dashboard", "go",
})


def is_local_part(tokens: list[Token], at: int) -> bool:
    """Whether the word before a spoken "at" (token ``at``) can end an email's local part."""
    if at == 0:
        return False
    if tokens[at].low == "@":
        return True
    before = tokens[at - 1].low
    return before not in _LEAD_IN and before not in _WEB_NOUNS


def _piece(tok: Token) -> str:
    if tok.low in _SYMBOLS:
        return _SYMBOLS[tok.low]
    if tok.low in UNITS and tok.low not in ("o",):
        return str(UNITS[tok.low])
    return tok.low


def _joined(a: str, b: str) -> bool:
    """No space around symbols, between spelled letters ("j o h n"), or before digits."""
    if a in _SYMBOLS.values() or b in _SYMBOLS.values():
        return True
    # "doe five five" is doe55: digits said after a word belong to it.
    return (len(a) == 1 and len(b) == 1) or (b.isdigit() and a.isalnum())


def written(tokens: list[Token]) -> tuple[str, list[int]]:
    """Written form and, per token, its start offset in that form (plus a final end marker)."""
    parts: list[str] = []
    offsets: list[int] = []
    pos = 0
    prev = ""
    in_host = False  # between "@" and the first ".": "green leaf dot com" is greenleaf.com
    for tok in tokens:
        piece = _piece(tok)
        if parts and not (_joined(prev, piece) or (in_host and piece.isalnum())):
            parts.append(" ")
            pos += 1
        if piece == "@":
            in_host = True
        elif not piece.isalnum():
            in_host = False
        offsets.append(pos)
        parts.append(piece)
        pos += len(piece)
        prev = piece
    offsets.append(pos)
    return "".join(parts), offsets


def recognize(view: View) -> list[Finding]:
    if not any(t.low in ("at", "@") for t in view.tokens):
        return []
    form, offsets = written(view.tokens)
    out: list[Finding] = []
    for m in _EMAIL.finditer(form):
        first = _token_at(offsets, m.start("email"))
        last = _token_at(offsets, m.end("email") - 1)
        at = _token_at(offsets, m.start("email") + m.group("email").index("@"))
        if not is_local_part(view.tokens, at):
            continue  # "check the page at support dot acme dot com": a URL
        first = _extend_left(view.tokens, first)
        out.append(Finding("EMAIL_ADDRESS", view.tokens[first].start, view.tokens[last].end,
                           0.95, DETECTOR))
    return out


def _token_at(offsets: list[int], pos: int) -> int:
    lo, hi = 0, len(offsets) - 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if offsets[mid] <= pos:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _extend_left(tokens: list[Token], first: int) -> int:
    """"john smith at gmail dot com" is johnsmith@: take up to two more words before the match."""
    for _ in range(2):
        k = first - 1
        if k < 0 or not tokens[k].text.isalnum() or tokens[k].low in _LEAD_IN:
            break
        first = k
    return first
