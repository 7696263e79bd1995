"""Takes a random generator and returns out-of-domain utterances whose target is "nothing".

Chit-chat, general questions, requests the skills cannot serve, speech from a TV in the
room, and sentences that use device words without being commands ("the light was lovely
this morning"). Frames that would collide with an installed intent (timers, shopping
lists) are left out when the skills define such an intent.
"""

from __future__ import annotations

import random

from hassil.expression import Alternative, Expression, Group, ListReference, Permutation, TextChunk
from hassil.parse_expression import parse_sentence

from assistant.train import pools

_LISTS: dict[str, tuple[str, ...]] = {
    "person": ("mom", "dad", "john", "sarah", "grandma", "the doctor", "my boss", "alex",
               "the office", "my sister", "my brother", "emma", "the plumber", "dave"),
    "city": ("paris", "london", "new york", "tokyo", "berlin", "chicago", "sydney", "rome",
             "madrid", "toronto", "dublin", "seattle"),
    "thing": ("the eiffel tower", "mount everest", "the moon", "a blue whale", "the sun",
              "the amazon river", "a giraffe", "the empire state building", "jupiter",
              "an elephant", "the pacific ocean", "a marathon"),
    "food": ("milk", "eggs", "bread", "pizza", "sushi", "bananas", "coffee beans", "pasta",
             "toilet paper", "dog food", "cheese", "apples", "a burger", "tacos", "chicken"),
    "noun": ("keys", "wallet", "phone", "glasses", "jacket", "car", "umbrella", "book", "bag",
             "remote", "charger", "shoes", "passport", "homework", "laptop", "dog", "cat"),
    "feeling": ("tired", "hungry", "bored", "happy", "sad", "excited", "stressed", "sleepy",
                "thirsty", "lonely", "confused", "fine", "great", "sick", "nervous"),
    "team": ("the lakers", "arsenal", "the yankees", "our team", "the home team", "chelsea",
             "the giants", "barcelona", "the patriots"),
    "topic": ("the election", "the economy", "the weather", "the game", "the stock market",
              "the new phone", "the traffic", "the storm", "the concert", "the budget"),
    "device": ("lamp", "tv", "fan", "blinds", "vacuum", "thermostat", "speaker", "light bulb",
               "heater", "lights", "curtains", "radio"),
    "room": pools.ROOMS + pools.ROOMS_MULTI,
    "number": tuple(str(n) for n in (2, 3, 5, 7, 10, 12, 15, 20, 25, 30, 45, 50, 100)),
    "day": ("today", "tomorrow", "tonight", "this weekend", "on monday", "next week",
            "on friday", "later", "this afternoon", "yesterday"),
}

# (frame, intents whose presence removes the frame)
_FRAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("what is the capital of (france|spain|italy|japan|canada|germany)", ()),
    ("who (won|is winning|played) the (game|match|race) [last night|yesterday|today]", ()),
    ("how (tall|old|far|big|heavy|deep|long) is {thing}", ()),
    ("(what's|what is|how's) the weather [like] [{day}] [in {city}]", ()),
    ("is it going to (rain|snow|be sunny|be windy) {day}", ()),
    ("when does the (store|supermarket|pharmacy|bank|library|post office) (open|close)", ()),
    ("how do (you|i) (spell|say|cook|make|pronounce) "
     "(lasagna|pancakes|necessary|croissant|rice)", ()),
    ("what does (ubiquitous|serendipity|ephemeral|gregarious) mean", ()),
    ("tell me a (joke|story|fun fact|riddle)", ()),
    ("what's the (news|latest news|score|traffic like) [{day}]", ()),
    ("how much is {number} (dollars|euros|pounds) in (yen|dollars|euros)", ()),
    ("what's {number} (times|plus|minus|divided by) {number}", ()),
    ("(order|buy|get me) [some|more] {food}", ()),
    ("(call|ring|phone|text|message) {person}", ()),
    ("send a (message|text|email) to {person} [saying] [i'm running late|i'll be home soon]", ()),
    ("(set|start) a timer for {number} (minutes|seconds|hours)",
     ("HassStartTimer", "HassSetTimer")),
    ("(wake me up|set an alarm) (at|for) {number} [in the morning]", ("HassSetAlarm",)),
    ("remind me to (buy {food}|call {person}|take out the trash|pay the bills) {day}", ()),
    ("add {food} to (my|the) (shopping|grocery) list", ("HassShoppingListAddItem",)),
    ("(book|reserve) a table for {number} [at eight|tonight]", ()),
    ("(navigate|give me directions|how do i get) to {city}", ()),
    ("what's on my (calendar|schedule|agenda) {day}", ()),
    ("read [me] my (emails|messages|texts|notifications)", ()),
    ("(feed|walk) the (dog|cat|fish)", ()),
    ("(water the plants|mow the lawn|do the dishes|do the laundry|take out the trash)", ()),
    ("(make|brew|pour) me a (coffee|tea|drink|sandwich)", ()),
    ("(start|lock|unlock|warm up) the car", ()),
    ("(i'm|i am|we're) (so|really|a bit|very) {feeling} [today|right now]", ()),
    ("(how are you|how's it going|what's up|hello|hi there|good morning|good evening|thank you"
     "|thanks|you're awesome|i love you|who are you|what's your name|are you listening"
     "|are you there|how old are you|what can you do|sing me a song|nice job|good job)", ()),
    ("(and now|coming up|in other news|back to you|stay tuned|after the break) [we look at] "
     "{topic} [with our reporter] [in {city}]", ()),
    ("{team} (scored|won|lost|played) [again] [last night|in the final minute|{day}]", ()),
    ("(ladies and gentlemen|folks|everybody) (welcome back|please take your seats|thank you "
     "for watching)", ()),
    ("(where did you put|have you seen|i can't find) (the|my) {noun}", ()),
    ("(did you|don't forget to) (pick up|bring|grab) (the|my) {noun} [{day}]", ()),
    ("the light (was|is|looks) (beautiful|amazing|perfect|lovely) (this morning|today|tonight)",
     ()),
    ("(turn|take a) (left|right) at the (corner|light|lights|next street)", ()),
    ("i (turned|switched) off my phone [yesterday|earlier|last night]", ()),
    ("(did|have) you (seen|watched) the (new|last) (show|movie|episode|season)", ()),
    ("the {room} (is|looks) (so|really|pretty) (messy|clean|nice|small|big|tidy|dusty) "
     "[today|now]", ()),
    ("my (mom|dad|friend|neighbor) (bought|fixed|broke|sold) the {device}", ()),
    ("(i|we) (should|need to|want to) (buy|get|order) a new {device}", ()),
    ("the {device} (is|was) (broken|expensive|making a weird noise|on sale|really old)", ()),
    ("how much (does|did) (a|the|that) {device} cost", ()),
    ("what time does the (movie|game|show|store|party|meeting) (start|begin|end)", ()),
    ("who turned (on|off) the {device} [in the {room}]", ()),
    ("(i|we) (love|hate|like) (this|that|the) (song|movie|show|color|lamp|room)", ()),
    ("(what|which) (movie|show|song|book) (should we|do you want to) (watch|see|read|hear)",
     ()),
    ("(let's|we should) (go out|eat|have dinner|go for a walk|go to bed) [{day}]", ()),
    ("(the|this) (song|movie|show|episode) is (so|really) (good|bad|boring|long)", ()),
    ("(i'll|we'll) (clean|paint|fix) the {room} {day}", ()),
    ("(um|uh|hmm|er|erm|okay|so|well|oh|ah|yeah so|hey house|hey|house)", ()),
    ("(turn|set|can you|could you|please|i want|make|switch) [the|a|my] [um|uh]", ()),
    ("(blah blah|la la la|testing testing|one two three|check one two|mic check)", ()),
)


def expand_frame(rng: random.Random, e: Expression, out: list[str]) -> None:
    """Appends one random reading of a frame's expression to `out`."""
    if isinstance(e, TextChunk):
        out.append(e.text)
    elif isinstance(e, Alternative):
        expand_frame(rng, rng.choice(e.items), out)
    elif isinstance(e, Permutation):
        for item in rng.sample(e.items, len(e.items)):
            expand_frame(rng, item, out)
    elif isinstance(e, Group):
        for item in e.items:
            expand_frame(rng, item, out)
    elif isinstance(e, ListReference):
        out.append(rng.choice(_LISTS[e.list_name]))


class NegativeSampler:
    """Out-of-domain utterances from frames that do not collide with installed intents."""

    def __init__(self, intent_names: set[str]) -> None:
        self.frames = [parse_sentence(text) for text, clash in _FRAMES
                       if not intent_names.intersection(clash)]

    def sample(self, rng: random.Random) -> str:
        r = rng.random()
        if r < 0.08:  # word salad, as from a recogniser fed background noise
            vocab = [w for ws in _LISTS.values() for x in ws for w in x.split()]
            return " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 6)))
        parts: list[str] = []
        expand_frame(rng, rng.choice(self.frames).expression, parts)
        return " ".join("".join(parts).split())
