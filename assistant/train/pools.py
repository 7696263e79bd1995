"""Takes a random generator and returns made-up rooms, floors, device names and spoken numbers.

The model never sees the installer's home while training: it sees thousands of invented
names, including nonsense words, so that it learns to copy whatever name was spoken.
"""

from __future__ import annotations

import random

ROOMS = ("kitchen", "bedroom", "bathroom", "hallway", "hall", "office", "study", "garage",
         "basement", "attic", "den", "nursery", "laundry", "porch", "patio", "garden", "playroom",
         "closet", "pantry", "mudroom", "lounge", "conservatory", "library", "gym", "workshop",
         "loft", "cellar", "sunroom", "landing", "entrance", "entryway", "foyer", "stairs",
         "staircase", "toilet", "washroom", "ensuite", "studio", "shed", "driveway", "balcony",
         "terrace", "deck", "yard", "backyard", "corridor", "lobby", "veranda", "greenhouse",
         "cabin", "annex", "nook")
# Rooms of several words: copied as one span.
ROOMS_MULTI = (
    "living room", "dining room", "laundry room", "utility room", "guest room",
    "guest bedroom", "master bedroom", "kids room", "family room", "sitting room",
    "front room", "back room", "shower room", "walk in closet", "media room", "tv room",
    "game room", "music room", "boiler room", "spare room", "box room", "wine cellar",
    "reading nook", "breakfast nook", "front yard", "side yard", "main bedroom",
    "upstairs bathroom", "downstairs toilet", "second bedroom", "third bedroom",
)
PEOPLE = ("emma", "noah", "olivia", "liam", "ava", "lucas", "mia", "leo", "sophie", "jack",
          "grandma", "grandpa", "mom", "dad", "the kids", "the baby", "sam", "alex", "maya",
          "oscar", "zoe", "ben", "lily", "max", "ruby", "theo", "isla", "finn", "nora", "kai")
# Rooms such as basement or attic can also be floors; they stay rooms here so that the
# training targets are not contradictory (the mapper may still try the other reading).
FLOORS = ("ground floor", "first floor", "second floor", "third floor", "top floor",
          "upstairs", "downstairs", "main floor", "lower level", "upper level", "upper floor",
          "lower floor", "mezzanine", "level one", "level two", "garden level", "penthouse",
          "level three", "lower ground floor", "upper deck")
DEVICE_NOUNS = {
    "light": ("light", "lights", "lamp", "ceiling light", "floor lamp", "desk lamp",
              "table lamp", "reading lamp", "bedside lamp", "night light", "pendant",
              "chandelier", "spotlights", "downlights", "led strip", "light strip",
              "fairy lights", "string lights", "wall light", "sconce", "lantern", "bulb",
              "lava lamp", "mood light", "uplighter", "spots", "strip", "globe", "porch light",
              "mirror light", "garden light", "wall lamp", "corner lamp", "porch lamp",
              "outside light", "cabinet lights", "shelf light", "bed light"),
    "switch": ("plug", "socket", "outlet", "kettle", "coffee maker", "coffee machine",
               "heater", "fountain", "charger", "christmas tree", "tree lights", "dehumidifier",
               "humidifier", "fish tank", "aquarium", "printer", "monitor", "pump", "switch",
               "fan heater", "electric blanket", "towel rail", "boiler", "water heater"),
    "fan": ("fan", "ceiling fan", "desk fan", "tower fan", "extractor fan", "air purifier",
            "ventilation", "exhaust fan"),
    "cover": ("blinds", "blind", "shades", "curtains", "shutters", "garage door", "awning",
              "skylight", "roller blind", "drapes", "window", "gate"),
    "media_player": ("tv", "television", "speaker", "speakers", "radio", "stereo", "soundbar",
                     "sonos", "record player", "projector", "hifi", "chromecast", "apple tv",
                     "telly", "tele", "sound system", "jukebox", "music box", "smart speaker"),
    "climate": ("thermostat", "heating", "radiator", "ac", "air conditioner", "heat pump",
                "aircon", "underfloor heating", "climate"),
    "vacuum": ("vacuum", "roomba", "robot vacuum", "hoover", "robot", "mop", "cleaner"),
    "lock": ("front door", "back door", "door lock", "deadbolt", "side door", "patio door",
             "gate lock", "smart lock"),
    "scene": ("movie night", "good morning", "good night", "dinner time", "relax", "party",
              "reading", "bedtime", "romantic", "wake up", "away mode", "cozy evening",
              "focus", "sunset", "morning routine", "movie time"),
    "sensor": ("temperature sensor", "thermometer", "weather station", "sensor",
               "climate sensor", "outdoor sensor"),
    "valve": ("sprinkler", "water valve", "irrigation", "main valve", "garden tap"),
}
ADJECTIVES = ("big", "small", "little", "main", "front", "back", "left", "right", "corner",
              "old", "new", "red", "blue", "green", "white", "tall", "upper", "lower", "side",
              "middle", "north", "south", "east", "west", "top", "bottom", "round", "long",
              "outdoor", "indoor", "smart", "fancy", "cosy", "bright", "wall", "window")
SYLLABLES = ("ka", "lo", "mi", "zen", "tor", "bri", "vel", "nax", "qua", "dor", "fi", "ru",
             "sel", "pim", "zo", "gra", "ul", "ke", "von", "tas", "lem", "bo", "nik", "shi",
             "yar", "pel", "dro", "wix", "fen", "chu", "osk", "tib", "mar", "glo", "ere")
ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen")
TENS_WORDS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
              "ninety")


CONSONANTS = "bcdfghjklmnpqrstvwxz"
VOWELS = "aeiouy"
BRANDS = ("hue", "ikea", "tradfri", "sonos", "nest", "ecobee", "dyson", "philips", "lifx",
          "nanoleaf", "govee", "shelly", "tado", "roborock", "eufy", "bose", "marantz",
          "yamaha", "tapo", "meross", "aqara", "wiz", "sengled", "kasa", "wemo", "arlo")


def nonsense(rng: random.Random) -> str:
    """An invented word: names the model cannot have memorised, spelt with any letters."""
    r = rng.random()
    if r < 0.35:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    if r < 0.5:
        return rng.choice(BRANDS)
    word = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(rng.randint(1, 3)))
    return word + (rng.choice(CONSONANTS) if rng.random() < 0.6 else "")


def room(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return rng.choice(ROOMS)
    if r < 0.7:
        return rng.choice(ROOMS_MULTI)
    if r < 0.8:
        return f"{rng.choice(PEOPLE)}'s {rng.choice(('room', 'bedroom', 'office', 'study'))}"
    if r < 0.9:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(ROOMS)}"
    return f"{nonsense(rng)} {rng.choice(('room', 'wing', 'suite', 'hall'))}" \
        if rng.random() < 0.5 else nonsense(rng)


def floor(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return rng.choice(FLOORS)
    return f"{nonsense(rng)} {rng.choice(('floor', 'level'))}"


def device_name(rng: random.Random, domains: tuple[str, ...] = ()) -> str:
    """A plausible (or invented) entity name, with a noun from one of the intent's domains."""
    pool = [d for d in domains if d in DEVICE_NOUNS] or list(DEVICE_NOUNS)
    noun = rng.choice(DEVICE_NOUNS[rng.choice(pool)])
    r = rng.random()
    if r < 0.25:
        return noun
    if r < 0.5:
        return f"{rng.choice(ADJECTIVES)} {noun}"
    if r < 0.7:
        return f"{room(rng)} {noun}"
    if r < 0.8:
        return f"{rng.choice(PEOPLE)}'s {noun}"
    if r < 0.9:
        return f"{nonsense(rng)} {noun}" if rng.random() < 0.6 else nonsense(rng)
    return f"{room(rng)} {rng.choice(ADJECTIVES)} {noun}"


def spoken_integer(n: int) -> str:
    """0..999 in words: 21 -> "twenty one", 100 -> "one hundred"."""
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS_WORDS[tens] + (f" {ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    head = f"{ONES[hundreds]} hundred"
    return head + (f" {spoken_integer(rest)}" if rest else "")


def say_number(rng: random.Random, value: float) -> str:
    """Digits or words, as a recogniser or a typist would produce them."""
    if rng.random() < 0.55:
        return f"{value:g}"
    if float(value).is_integer():
        n = int(value)
        if n == 100 and rng.random() < 0.3:
            return "a hundred"
        return spoken_integer(n)
    whole, frac = f"{value:g}".split(".")
    return f"{spoken_integer(int(whole))} point " + " ".join(ONES[int(d)] for d in frac)
