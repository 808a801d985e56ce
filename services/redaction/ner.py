"""What we keep of spaCy's findings (through Presidio) on a line, and on which text the model
runs: lower-case ASR text truecased (``truecase.py``) when a raised word could give a finding we
keep. On truecased text the model finds places and names it cannot see in lower case, but also
takes drugs, apps and dishes for people and places ("i'm on Metformin", "paid with Venmo"): a
place is kept when a cue, the gazetteer or a place word vouches for it, a person when a list or a
second name word does; one unlisted rare word spaCy calls a person is kept only as a place after
"in" or "went to" ("my hotel is in bandra"). A group word for a thing, and any group word in
the agent's script, is marked so (``presidio:thing``): the policy's NRP scope "all" redacts it,
"people" keeps it. Pure logic.
"""

from __future__ import annotations

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.compounds import lexicalised
from services.redaction.recognizers.names import vouched_name
from services.redaction.recognizers.place_cues import is_country, place_by_cue, spoken_place
from services.redaction.recognizers.places import group_of_a_thing
from services.redaction.spans import Grower
from services.redaction.truecase import Truecased, truecase


def truecased_for_ner(text: str, view: View) -> Truecased:
    """``text`` truecased when a raised word could give a finding ``kept`` keeps (a listed
    name, two name words, a place after its cue); else as it is, so a line whose rare words
    could only be dropped does not cost a spaCy run."""
    cased = truecase(text)
    if not cased.raised:
        return cased
    toks = view.tokens
    up = [t.start in cased.raised for t in toks]
    for k, t in enumerate(toks):
        if up[k] and ((k > 0 and up[k - 1]) or (k + 1 < len(toks) and up[k + 1])
                      or vouched_name(view, t.start, t.end) or place_by_cue(view, t.start)
                      or spoken_place(view, t.start, t.end)):
            return cased
    return Truecased(text, frozenset())


def lexicalised_at(view: View, start: int, end: int) -> bool:
    """Whether a one-word span is a group word inside a thing's fixed name ("english muffin")."""
    at = view.token_range(start, end)
    return at is not None and at[0] == at[1] and lexicalised(view.tokens, at[0])


def kept(view: View, cased: Truecased, entity: str, start: int, end: int,
          score: float) -> Finding | None:
    """A finding of spaCy's (through Presidio) as we keep it, or None. Its places only on
    truecased text, in a span holding a word truecasing raised (on ASR text the model's own
    places are mostly wrong); a person that is one unlisted raised word only as a place after
    "in" or "went to" ("my hotel is in bandra"), as it is most often a drug or an app ("i'm on
    metformin"); a group of a thing, and any group in the agent's script, marked ``:thing``."""
    if entity == "NRP" and lexicalised_at(view, start, end):
        return None  # "french press", "german shepherd": a thing's name, no group
    if entity == "NRP" and (group_of_a_thing(view, start, end) or view.is_agent):
        # "Thai food", "the Mexican peso", an agent's "Americans generally don't need a visa":
        # every group mention, redacted under the policy's nrp_scope "all" only
        return Finding(entity, start, end, score, "presidio:thing")
    if entity == "LOCATION" and not ((cased.raised_in(start, end) or view.text[start].isupper())
                                     and spoken_place(view, start, end)):
        return None
    if entity == "PERSON" and cased.raised_in(start, end) and not vouched_name(view, start, end):
        if not (place_by_cue(view, start) and spoken_place(view, start, end)):
            return None
        entity = "LOCATION"
    if entity == "PERSON":  # "D'Angelo", "van der Berg", "fatoumata diallo": the whole name
        start, end = Grower(view).person(start, end)
    elif entity == "LOCATION":  # "koh lanta", "the isle of mull"
        start, end = Grower(view).place(start, end)
        if is_country(view, start, end):  # the policy's granularity decides on countries
            return Finding(entity, start, end, score, "presidio:country")
    return Finding(entity, start, end, score, "presidio")
