"""What a redaction produces: the redacted text and findings without values, with provenance."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

# 3: unseen-speech recognizers (issue 19): rare-word surnames, towns, public suffixes, IPv6 …
# 4: second round: towns no list holds, USPS streets, intersections, more name locales, more
#    demonyms, group adjectives of things kept, spoken IPv4 with "oh"/"point"
# 5: third round: aliases, regions and neighbourhoods, cues before "the", travel cues; names
#    said before their spelling, word-like first names with a surname, more relations and
#    names; spoken hosts of several words
# 6: fourth round: whole addresses with town, state, country and ZIP; military mail; streets
#    without a number; Faker's town shapes; languages and dishes no longer groups or names
# 7: fifth round: lower-case ASR text truecased for spaCy's NER (its places and names kept when
#    a cue, a list or a second name word vouches for them); names and places grown over their
#    words and across hesitations; places said together; answers to "where…?"; rare words
#    after a dwelling or a motion; lakes, mountains and islands; numbered rural roads; group
#    adjectives before nouns for people; spelled top-level domains; names take no determiner
# 8: sixth round: NRP scope in the policy (group words of things marked, kept by default);
#    race words said of a person; words that are a group only when said of someone not before
#    a trade; short prompts and "when was…" ask; dates with their cue after them, fillers
#    inside, or a year of the last century; landmarks end a place's name; nearness, roads and
#    touring cue places; numbers are no unknown place; names beside a role or a naming verb
# 9: seventh round: streets numbered after their name ("Laukaantie 26", "619 Tømmeråsen 87");
#    address tails over other countries' postcodes, region codes, particles and hyphens; an
#    intersection's lead-in and second street; 4- and 6-digit postcodes after a postcode cue;
#    names go on over a middle initial; names said as someone's ("jerry's daughter"); a
#    written date with a time of day is no phone, NHS or account number; a name said with a
#    found one ("kowalczyk and nowak"); "via"/"rue" inside a street numbered after its name
# 10: eighth round: presidio-evaluator's person records on the name lists; names found by
#    shape (first name, initial, surname; listed first name and surname) and beside a person's
#    act, "says", "named him", a vocative or as a work's maker (recognizers/subjects.py); a
#    found surname said again in its line; a name said before "and" a found one; degrees
#    after a name ("md", "phd", "jr"); emails ending in any country's code; a spelled code
#    over the numbers and letters after its letters
# 11: ninth round: every demonym form of presidio-evaluator's nationality data ("burkinese",
#    "costricans"); plurals of group nouns ("proud danes", "englishmen", "new zealanders");
#    a group noun after "i'm a" typed NRP, not a name ("i am a dane")
# 12: tenth round: word-like names only in a name-bearing context (recognizers/name_links.py)
# 13: eleventh round: word-like first names in a slot only a person fills (name_slots.py);
#    a first and last name opening the line; a day said of a life event is a DATE_TIME
#    ("dates:event"); group words inside a thing's fixed name ("french press") are no group
#    (compounds.py); more prompts ask; places before "sprouts", "fern" are a thing's name
# 14: twelfth round: names as ASR writes them (asr_names.py); race words an agent says of a
#    person; names owning a prescription, added to an account, ending a list
# 15: thirteenth round: names said to someone and an assistant's own name (vocatives.py); a
#    found name's missing parts: a word-like surname, a restart, a stammer, a generation,
#    initials after a title (name_repairs.py); names in cased transcripts (cased_names.py);
#    group words in the agent's script redacted under nrp_scope "all"; more peoples and faiths;
#    regions of origin and parties named by an adjective as group pairs ("south asian", "the
#    democratic party"); a said-of-someone word before a nation's things ("the georgian
#    government")
# 16: fourteenth round: group nouns said as people by what is around them ("the poles next
#    door", "a lot of swedes live here", "my son married a turk", "as a kiwi i"), plurals of
#    political words ("the tories", "conservatives"), past a hesitation or a degree word ("she's
#    half english", "we are both black"); a copula says an everyday said-of word of someone only
#    with a person before it ("my wife is english", not "the light is green"); a country's name
#    as its people's adjective ("a new zealand passport", "the brazil government"); accents
#    folded and twice-decoded letters repaired ("québécois", "monã©gasque"); hyphened prefixes
#    ("afro-caribbean", "scotch-irish"); more peoples, faiths' branches and parties ("southern
#    baptist", "reform jewish", "the snp", "plaid cymru", "labour voter"); "polish the car" and
#    "the indian ocean" are no group
DETECTOR_VERSION = "voxledger-speech/16"


@dataclass(frozen=True, slots=True)
class Utterance:
    """One line to redact; ``previous_agent`` is the agent turn just before a caller turn."""

    text: str
    previous_agent: str | None = None
    speaker: str | None = None  # "caller", "agent"; None when unknown (treated as the caller)


class FindingRecord(BaseModel):
    """Entity type and span (in the original text); never the value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity_type: str
    start: int
    end: int
    score: float
    detector: str


class RedactedTurn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    text: str
    findings: tuple[FindingRecord, ...]
    detector_version: str
    model: str
    policy_hash: str
    policy_version: int
