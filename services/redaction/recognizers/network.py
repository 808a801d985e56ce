"""Network identifiers, written or spoken: IP_ADDRESS, URL, CRYPTO.

"one nine two dot one six eight dot one dot ten" is four number runs joined by "dot"; a written
"10.0.0.5" is one run of four pieces. A URL is a host that ends in a known top-level domain
("acme dash plumbing dot com slash contact", "www.example.org/path", "https://…"); a host right
after "at" is an email's and left to the email reader. Wallets: Bitcoin (base58 or bech32) and
Ethereum addresses as written (nobody reads 34 characters aloud). Every pattern is bounded, so
the scan stays linear. Pure logic.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from functools import cache

from services.redaction.offline import use_bundled_suffix_list
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.email import is_local_part
from services.redaction.spoken import NumberRun, Token, element

DETECTOR = "network"
_DOTS = frozenset({"dot", ".", "point", "period"})
_TLDS = frozenset({
    "com", "net", "org", "edu", "gov", "io", "co", "us", "uk", "ca", "de", "fr", "es", "it",
    "nl", "au", "info", "biz", "me", "ai", "app", "dev", "tech", "online", "store", "xyz", "ie",
    "nz", "ch", "se", "eu", "tv", "shop", "site", "blog", "law", "health", "ru", "jp", "cn", "br",
    "mx", "pl", "dk", "fi", "pt", "gr", "cz", "za", "sg", "hk", "kr", "ly", "gg", "fm", "cc",
    "ws", "page", "link", "live", "world", "cloud", "digital", "media", "services", "solutions",
    "agency",
})
_HOST_SEP = frozenset({"dot", ".", "dash", "-", "hyphen"})
_PATH_SEP = frozenset({"slash", "/", "forward"})
_LEAD_IN = frozenset({
    "is", "it's", "its", "my", "to", "the", "our", "your", "at", "on", "visit", "go", "site",
    "website", "page", "url", "link", "and", "or", "a", "an", "check", "out", "called", "um",
    "uh", "yes", "yeah", "sure", "so", "www", "http", "https", "from", "via", "in", "of",
})
_CRYPTO = re.compile(
    r"(?<![A-Za-z0-9])(?:bc1[a-z0-9]{25,59}|[13][a-km-zA-HJ-NP-Z1-9]{25,34}"
    r"|0x[a-fA-F0-9]{40})(?![A-Za-z0-9])")


def _ips(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    for run in view.runs:  # written: 10.0.0.5 is one run, four pieces, dots between
        if len(run.pieces) == 4 and all(_octet(p.digits) for p in run.pieces) and all(
                view.text[a.end:b.start].strip() == "."
                for a, b in zip(run.pieces, run.pieces[1:], strict=False)):
            out.append(Finding("IP_ADDRESS", run.start, run.end, 0.9, DETECTOR))
    by_first = {r.first: r for r in view.runs}
    k = 0
    runs = view.runs
    while k < len(runs):  # spoken: four runs, one "dot" between each
        chain: list[NumberRun] = [runs[k]]
        while len(chain) < 4:
            nxt = chain[-1].last + 2
            if nxt - 1 >= len(toks) or toks[nxt - 1].low not in _DOTS or nxt not in by_first:
                break
            chain.append(by_first[nxt])
        last_end = _octet_prefix_end(chain[-1]) if len(chain) == 4 else None
        if len(chain) == 4 and all(_octet(r.digits) for r in chain[:3]) and last_end is not None:
            out.append(Finding("IP_ADDRESS", chain[0].start, last_end, 0.9, DETECTOR))
            k += 4
        else:
            k += 1
    covered = {(f.start, f.end) for f in out}
    out.extend(f for f in _spoken_ips(toks) if (f.start, f.end) not in covered
               and not any(a <= f.start < b for a, b in covered))
    return [f for f in out if not _after_version(toks, f.start)]


def _after_version(toks: list[Token], start: int) -> bool:
    """"version two point one point four point seven", "firmware version is 1.2.3.4"."""
    k = bisect.bisect_left(toks, start, key=lambda t: t.start)
    return any(t.low in _VERSION for t in toks[max(0, k - 3):k])


_VERSION = frozenset({"version", "v", "firmware", "build", "release", "update", "ios",
                      "android", "windows"})  # "version two point one point four point seven"
_OCTET_TOKENS = 3  # "two fifty five", "one oh one": at most three number tokens per octet


def _spoken_octet(toks: list[Token], i: int, last: bool) -> tuple[str, int] | None:
    """The octet said from token ``i``: (digits, next index), "oh" a zero ("ten dot oh dot oh
    dot one"); the last octet stops where more digits would not make one ("... dot oh no
    wait")."""
    digits, j, best = "", i, None
    while j < len(toks) and j - i < _OCTET_TOKENS:
        el = element(toks, j)
        if el is None or not el[0].isdigit():
            break
        digits += el[0]
        if not _octet(digits):
            break
        j = el[1]
        best = (digits, j)
        if not last and j < len(toks) and toks[j].low in _DOTS:
            break
    return best


def _spoken_ips(toks: list[Token]) -> list[Finding]:
    """Four octets said with "dot"/"point" between, read token by token: a zero said "oh" is
    no number run of its own, so the run-based reader above misses "ten dot oh dot oh dot one".
    Each start reads at most four bounded octets: linear."""
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        j, octets = i, 0
        while octets < 4:
            got = _spoken_octet(toks, j, octets == 3)
            if got is None:
                break
            octets, j = octets + 1, got[1]
            if octets < 4:
                if j + 1 >= len(toks) or toks[j].low not in _DOTS:
                    break
                j += 1
        if octets == 4:
            out.append(Finding("IP_ADDRESS", toks[i].start, toks[j - 1].end, 0.9, DETECTOR))
            i = j
        else:
            i += 1
    return out


def _octet_prefix_end(run: NumberRun) -> int | None:
    """End offset of the last octet: the whole run, or its longest first pieces that make one
    ("… dot two five four slash twenty four": the prefix length is not part of the address)."""
    if _octet(run.digits):
        return run.end
    digits, best = "", None
    for piece in run.pieces:
        digits += piece.digits
        if len(digits) > 3:
            break
        if _octet(digits):
            best = piece.end
    return best


def _octet(digits: str) -> bool:
    return 1 <= len(digits) <= 3 and int(digits) <= 255


@cache
def _public_suffix(word: str) -> bool:
    """Whether ``word`` is a top-level domain in the public suffix list bundled with the pinned
    tldextract (read offline): ".travel", ".bank", ".insurance" as well as ".com"."""
    if not word.isascii() or not word.isalpha() or len(word) < 2:
        return False
    import tldextract

    use_bundled_suffix_list()
    return bool(tldextract.extract(f"example.{word}").suffix == word)


def _tld_at(toks: list[Token], k: int) -> int | None:
    """Index of the last token of a top-level domain after token ``k`` (a dot), when they end
    a host name. A written "." must touch both neighbours ("site.bank", not "okay. me too");
    after a spoken "dot" the list's rarer TLDs count too, but never a stop word ("dot in",
    "dot it"), and a TLD may be spelled ("bit dot l y", "dot c o dot n z")."""
    dot, tld = toks[k], toks[k + 1]
    if dot.low not in _DOTS or not toks[k - 1].is_word:
        return None
    if dot.text == ".":
        if toks[k - 1].end != dot.start or dot.end != tld.start:
            return None
        return k + 1 if tld.low in _TLDS or _public_suffix(tld.low) else None
    if tld.low in _TLDS:
        return k + 1
    spelled = _spelled_tld(toks, k + 1)
    if spelled is not None:
        return spelled
    return k + 1 if tld.low not in _stop_words() and _public_suffix(tld.low) else None


def _spelled_tld(toks: list[Token], i: int) -> int | None:
    """Index of the last letter of a TLD said letter by letter from token ``i`` ("l y", "n z",
    "c o"); the letters must be all there is before the next separator or the end."""
    j = i
    while j < len(toks) and j - i < 3 and len(toks[j].text) == 1 and toks[j].text.isalpha():
        j += 1
    if j - i < 2 or (j < len(toks) and len(toks[j].text) == 1 and toks[j].text.isalpha()):
        return None
    letters = "".join(t.low for t in toks[i:j])
    return j - 1 if letters in _TLDS or _public_suffix(letters) else None


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _LEAD_IN


def _urls(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    k = 1
    while k + 1 < len(toks):
        tld = _tld_at(toks, k)
        if tld is None:
            k += 1
            continue
        first = _host_start(toks, k - 1)
        if first > 0 and toks[first - 1].low in ("at", "@") and is_local_part(toks, first - 1):
            k += 2
            continue  # an email's domain
        if first > 0 and toks[first - 1].low == "my" and first < k - 1:
            first -= 1  # "my chart dot …", "my account dot verizon dot com": a site's name
        first = _scheme(toks, first)
        last = _tail(toks, tld)
        out.append(Finding("URL", toks[first].start, toks[last].end, 0.85, DETECTOR))
        k = last + 1
    return out


def _host_start(toks: list[Token], j: int) -> int:
    """Walk left over host labels and their separators (at most eight tokens); a spoken label
    may be a few words ("cheap flights now dot travel"), and "www dot" or "w w w dot" before
    them takes them all ("w w w dot help my router dot com")."""
    first = _walk_labels(toks, j, j)
    www = _www_before(toks, first)
    if www is not None:
        return www
    if toks[first].is_word and toks[first].text.isalpha():
        words = 0
        while first > 0 and words < 2 and toks[first - 1].text.isalpha() \
                and toks[first - 1].low not in _stop_words() and not _spoken(toks[first - 1]):
            first -= 1
            words += 1
        if words:
            # "chart dot riverside health dot org": labels go on before a spoken one, and the
            # first label may be words too ("patient portal dot mercy health dot org")
            first = _walk_labels(toks, first, j)
            words = 0
            while first > 0 and words < 2 and toks[first - 1].text.isalpha() \
                    and toks[first - 1].low not in _stop_words() \
                    and not _spoken(toks[first - 1]) and first < j:
                first -= 1
                words += 1
            return first
    if first >= 2 and [t.low for t in toks[first - 2:first + 1]] == ["w", "w", "w"]:
        first -= 2  # "w w w dot …": the walk took the last "w" as a host label
    elif first >= 3 and toks[first - 1].low in _DOTS \
            and [t.low for t in toks[first - 4:first - 1]] == ["w", "w", "w"]:
        first -= 4
    elif first == j and first > 0 and toks[first - 1].is_word \
            and toks[first - 1].low not in _LEAD_IN:
        first -= 1  # "johns plumbing dot com": a spoken host is often two words
    elif first > 0 and toks[first - 1].low == "www":
        first -= 1
    elif first > 1 and toks[first - 1].low in _DOTS and toks[first - 2].low == "www":
        first -= 2
    return first


def _walk_labels(toks: list[Token], first: int, j: int) -> int:
    """Walk left from label ``first`` over separators and labels, at most eight tokens from
    ``j`` (the label before the TLD)."""
    i = first - 1
    while i >= 1 and j - i <= 8 and toks[i].low in _HOST_SEP \
            and toks[i - 1].is_word and toks[i - 1].low not in _LEAD_IN:
        first = i - 1
        i -= 2
    return first


def _www_before(toks: list[Token], first: int) -> int | None:
    """Index of a "www"/"w w w" said up to three words before the host, then a dot."""
    for gap in range(0, 4):
        d = first - gap - 1
        if d < 1 or toks[d].low not in _DOTS:
            continue
        if not all(t.is_word for t in toks[d + 1:first]):
            return None
        if toks[d - 1].low == "www":
            return d - 1
        if d >= 3 and [t.low for t in toks[d - 3:d]] == ["w", "w", "w"]:
            return d - 3
    return None


def _spoken(tok: Token) -> bool:
    """A spoken separator or scheme word, not a host label."""
    return tok.low in _HOST_SEP or tok.low in _PATH_SEP or tok.low in ("colon", "www")


_SCHEMES = ("http", "https", "h t t p", "h t t p s", "ftp")


def _scheme(toks: list[Token], first: int) -> int:
    """Take "https://" or "h t t p s colon slash slash" before the host."""
    k = first
    while k > 0 and toks[k - 1].low in ("/", "slash", "forward") and first - k < 4:
        k -= 1
    if k < first and k > 0 and toks[k - 1].low in (":", "colon"):
        k -= 1
        for scheme in _SCHEMES:
            words = scheme.split()
            if k >= len(words) and [t.low for t in toks[k - len(words):k]] == words:
                return k - len(words)
    return first


_PATH_END = frozenset({"and", "or", "then", "to", "please", "for", "if", "so", "but", "that",
                       "it", "i", "you", "we", "is", "thanks", "okay", "ok", "um", "uh"})


def _tail(toks: list[Token], last: int) -> int:
    """".co.uk", then "/path/more" (at most four path parts, a spoken part up to two words:
    "slash contact us")."""
    if last + 2 < len(toks) and toks[last + 1].low in _DOTS:
        if toks[last + 2].low in _TLDS:
            last += 2
        else:
            last = _spelled_tld(toks, last + 2) or last  # "c o dot n z"
    parts = 0
    while parts < 4 and last + 2 < len(toks) and toks[last + 1].low in _PATH_SEP:
        nxt = last + 2
        if toks[last + 1].low == "forward" and nxt < len(toks) and toks[nxt].low == "slash":
            nxt += 1
        if nxt >= len(toks) or not toks[nxt].is_word:
            break
        spoken = toks[last + 1].is_word  # "slash", not "/"
        last, parts = nxt, parts + 1
        if spoken and last + 1 < len(toks) and toks[last + 1].is_word and toks[last + 1].low not in (
                _PATH_END | _PATH_SEP | _DOTS) and toks[last].low not in _PATH_END:
            last += 1
    return last


def _crypto(view: View) -> list[Finding]:
    return [Finding("CRYPTO", m.start(), m.end(), 0.9, DETECTOR)
            for m in _CRYPTO.finditer(view.text)
            if not m.group().isdigit()]


# IPv6 as written: hex groups and colons, at most 39 characters, checked by ``ipaddress``.
_IPV6 = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Fa-f:]{2,39}(?![0-9A-Za-z:])")


def _ipv6(view: View) -> list[Finding]:
    out: list[Finding] = []
    if view.text.count(":") < 2:
        return out
    for m in _IPV6.finditer(view.text):
        if m.group().count(":") < 2:
            continue
        try:
            ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        out.append(Finding("IP_ADDRESS", m.start(), m.end(), 0.9, DETECTOR))
    return out


# A written URL runs to the next space, query string and all ("…/start?id=42&ref=mail").
_WRITTEN_URL = re.compile(r"(?i)(?<![\w@])(?:https?://|www\.)[^\s<>\"]{1,2000}")


def _written_urls(view: View) -> list[Finding]:
    out: list[Finding] = []
    for m in _WRITTEN_URL.finditer(view.text):
        end = m.end()
        while end > m.start() and view.text[end - 1] in ".,;:!?)]}'":
            end -= 1  # the sentence's punctuation, not the URL's
        if end - m.start() > len("www."):
            out.append(Finding("URL", m.start(), end, 0.9, DETECTOR))
    return out


def _numeric(view: View, f: Finding) -> bool:
    """A spoken "URL" that is only numbers and dots ("point four point seven"): a version."""
    toks = view.tokens
    k = bisect.bisect_left(toks, f.start, key=lambda t: t.start)
    seen = False
    while k < len(toks) and toks[k].end <= f.end:
        if toks[k].low not in _DOTS and element(toks, k) is None:
            return False
        seen, k = True, k + 1
    return seen


def recognize(view: View) -> list[Finding]:
    found = _urls(view)
    urls = [f for f in found if not _numeric(view, f)] if found else found
    return _ips(view) + _ipv6(view) + urls + _written_urls(view) + _crypto(view)
