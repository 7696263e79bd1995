"""Takes a random generator and returns a reason or remark said around a command.

People explain themselves ("we're about to eat, ...", "..., the dog is asleep"). The words
of such a clause are never part of the action, and some of them look like names, numbers
or device words, so the model must learn to leave them alone. Frames are expanded with
the same hassil syntax as the templates.
"""

from __future__ import annotations

import random

from hassil.parse_expression import parse_sentence

from assistant.train.negatives import expand_frame

_FRAMES = (
    "(i'm|we're|he's|she's|they're|i am|we are) (about to|going to|trying to|getting ready "
    "to|off to) (sleep|eat|read|work|leave|watch something|study|relax|cook|have a nap|have "
    "a bath|get changed|do some yoga|have lunch|play a game|take a call)",
    "(the|my|our) (dog|cat|neighbour|boss|mum|dad|partner|friend|brother|sister|baby|son|"
    "daughter|guest|cleaner) (is|has) (here|asleep|calling|barking|arrived|left|coming over|"
    "on the phone|not feeling well|napping|home early|working)",
    "(it's|it is) (raining|sunny|windy|noisy|quiet|late|early|dark out|cold out|hot out|"
    "dinner time|lunch time|nap time|bed time|getting dark|getting light|the weekend|"
    "a lovely day|pouring down|almost midnight)",
    "(i|we) (just|finally|only just) (got home|woke up|finished dinner|sat down|came in|got "
    "back|got up|finished work|put the kids down|came downstairs|arrived)",
    "(i|we) can't (see|hear|sleep|concentrate|think|read|relax) [properly] [like this|with "
    "that on|at all]",
    "(there's|there is) (a|some) (glare|draught|noise|smell|delivery|visitor|spider|"
    "storm coming|match on|film starting|call coming)",
    "(the|my) (phone|doorbell|oven timer|washing machine|kettle|alarm) (is ringing|went off|"
    "just rang|is beeping|finished)",
    "(thanks|cheers|ta|lovely|great|perfect|brilliant|cool|nice) [a lot|mate|buddy]",
    "(before|after|while) (i|we) (leave|eat|sleep|shower|read|cook|go out|work)",
    "(as|because|since) (i'm|we're) (cold|warm|tired|busy|leaving|back|up|awake|in a rush)",
    "(no rush|no hurry|whenever you can|if that's ok|when you get a sec|straight away)",
)


class ContextSampler:
    """Random remarks from the frames above, parsed once."""

    def __init__(self) -> None:
        self.frames = [parse_sentence(text) for text in _FRAMES]

    def sample(self, rng: random.Random) -> list[str]:
        parts: list[str] = []
        expand_frame(rng, rng.choice(self.frames).expression, parts)
        return "".join(parts).split()


CONTEXT_SAMPLER = ContextSampler()
