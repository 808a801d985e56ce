"""Group words that are part of a thing's name: "french press", "dutch oven", "german shepherd",
"a danish". Such a compound names a product, a dish or a breed and says nothing of anyone's
origin or faith, so even under ``nrp_scope: all`` (every mention, as stock Presidio) it is
not a group. A thing merely made in or named after a country ("thai food", "italian leather",
"the mexican peso", "a persian rug") is not listed here: it is a group mention. Pure logic.
"""

from __future__ import annotations

from services.redaction.spoken import Token

# Group word → the words after it that make a fixed name (singular and plural forms).
LEXICALISED: dict[str, frozenset[str]] = {
    "french": frozenset({"press", "presses", "fries", "fry", "toast", "door", "doors", "braid",
                         "manicure", "dressing", "vanilla", "roast", "drain", "bulldog",
                         "bulldogs", "horn", "kiss", "twist", "onion", "cuff", "cuffs",
                         "polish"}),
    "swiss": frozenset({"cheese", "army", "chard", "roll", "rolls", "steak", "miss"}),
    "dutch": frozenset({"oven", "ovens", "door", "doors", "auction", "courage", "uncle",
                        "baby", "braid", "elm"}),
    "english": frozenset({"muffin", "muffins", "ivy", "bulldog", "bulldogs", "breakfast",
                          "setter", "setters", "horn", "saddle", "toffee", "cucumber",
                          "cucumbers", "mastiff", "pointer", "springer", "lavender", "walnut"}),
    "german": frozenset({"shepherd", "shepherds", "measles", "pinscher", "pinschers"}),
    "greek": frozenset({"yogurt", "yoghurt", "yogurts", "salad", "fire"}),
    "italian": frozenset({"dressing", "ice", "seasoning"}),
    "russian": frozenset({"dressing", "roulette", "blue", "doll", "dolls"}),
    "canadian": frozenset({"bacon", "goose", "geese", "tuxedo"}),
    "american": frozenset({"express", "cheese", "airlines", "eagle", "girl", "pie"}),
    "irish": frozenset({"coffee", "setter", "setters", "stew", "cream", "wolfhound",
                        "wolfhounds", "spring"}),
    "scottish": frozenset({"terrier", "terriers", "fold", "folds"}),
    "danish": frozenset({"pastry", "pastries", "modern"}),
    "turkish": frozenset({"delight", "bath", "baths"}),
    "swedish": frozenset({"massage", "massages", "meatballs", "fish"}),
    "japanese": frozenset({"maple", "maples", "beetle", "beetles", "knotweed"}),
    "chinese": frozenset({"checkers", "lantern", "lanterns", "elm", "evergreen", "whispers"}),
    "belgian": frozenset({"waffle", "waffles", "malinois", "endive"}),
    "brazilian": frozenset({"wax", "blowout"}),
    "cuban": frozenset({"sandwich", "sandwiches", "link", "heel", "heels"}),
    "indian": frozenset({"motorcycle", "motorcycles", "summer", "ink", "ocean"}),
    "independent": frozenset({"living", "contractor", "contractors", "study", "review",
                              "school", "bookstore", "pharmacy", "adjuster", "agent", "agency",
                              "inspection", "film"}),
    "spanish": frozenset({"omelette", "omelet", "omelettes", "tile", "tiles", "moss", "flu",
                          "rice"}),
    "siamese": frozenset({"cat", "cats", "twin", "twins"}),
    "persian": frozenset({"cat", "cats", "kitten", "kittens"}),
}
# "a danish" is the pastry unless said of someone ("she's a danish citizen" goes on).
_NOUN_PASTRY = "danish"
_BE = frozenset({"i'm", "im", "is", "was", "he's", "she's", "am", "are", "were", "being"})
# "polish the car", "polish it up": the verb, before what is polished
_VERB_POLISH = "polish"
_POLISHED = frozenset({"the", "my", "your", "our", "his", "her", "their", "it", "them", "this",
                       "that", "these", "those", "up", "off", "out"})


def lexicalised(toks: list[Token], i: int) -> bool:
    """Whether the group word at ``i`` is part of a fixed name with the word after it, or is
    "a danish" said of a pastry."""
    low = toks[i].low
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    if nxt in LEXICALISED.get(low, ()):
        return True
    if low == _VERB_POLISH and nxt in _POLISHED:
        return True
    return low == _NOUN_PASTRY and i > 0 and toks[i - 1].low in ("a", "an") \
        and not (i > 1 and toks[i - 2].low in _BE) \
        and (not nxt or not nxt.isalpha() or nxt in ("and", "with", "for", "please", "too"))
