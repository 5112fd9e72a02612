"""What a class sends: the sentence on the board, or a sentence of a student's own.

A teacher writes one sentence on the board and most students type it; some type their own.
The board's sentence is each view's first example (then its second, as the lesson moves on),
so every student who copies it asks exactly what the others ask. A student's own sentence is
composed here from small word lists (Multi30k-like captions: "A young woman in a red coat is
riding a bike along the beach."), a new one for every request, so it is never in any cache.
"""

from __future__ import annotations

import random

WHO = (
    "man", "woman", "boy", "girl", "child", "dog", "worker", "musician", "player", "tourist",
    "cyclist", "teacher", "cook", "dancer", "farmer", "student", "old man", "young woman",
)  # fmt: skip
LOOKS = ("young", "tall", "little", "happy", "tired", "smiling", "bearded", "blond")
WEARING = ("in a red coat", "in a blue shirt", "with a hat", "in black", "with glasses", "in a yellow dress")
DOES = (
    "is riding a bike", "is playing the guitar", "is reading a book", "is walking a dog", "is eating lunch",
    "is climbing a rock", "is painting a wall", "is selling fruit", "is throwing a ball", "is taking a photo",
    "sits on a bench", "runs", "jumps into the water", "talks on the phone", "waits for the bus",
)  # fmt: skip
WHERE = (
    "along the beach", "in the park", "on a busy street", "near the river", "in the snow", "at the market",
    "in front of a building", "on the stage", "in a small kitchen", "under a tree", "in the rain",
)  # fmt: skip
SAYS = ("A person is outside.", "Nobody is moving.", "Someone is indoors.", "A person is asleep.", "An animal is here.")


def own_sentence(rng: random.Random) -> str:
    """One caption a student might type: 6-16 words, a new combination each call."""
    who = rng.choice(WHO)
    looks = rng.choice(LOOKS) + " " if rng.random() < 0.6 else ""
    wearing = " " + rng.choice(WEARING) if rng.random() < 0.5 else ""
    where = " " + rng.choice(WHERE) if rng.random() < 0.8 else ""
    article = "An" if (looks or who)[0] in "aeiou" else "A"
    return f"{article} {looks}{who}{wearing} {rng.choice(DOES)}{where}."


def own_inputs(view, rng: random.Random) -> dict:
    """A request of the view with the student's own words in its text inputs (the other inputs,
    such as the beam size or the layer, as on the board)."""
    inputs = dict(view.examples[0])
    for name, value in inputs.items():
        # Typed text only: an input with a text limit (not a choice such as the Transformer's kind).
        if not isinstance(value, str) or not value.strip() or name == "model_name" or name not in view.limits:
            continue
        if "\n" in value:  # a batch of sentences, one per line
            inputs[name] = "\n".join(own_sentence(rng) for _ in range(rng.randint(3, 8)))
        elif name == "hypothesis":
            inputs[name] = rng.choice(SAYS)
        else:
            inputs[name] = own_sentence(rng)
        limit = view.limits.get(name)
        if limit is not None and limit < 20:  # a limit in words (the Lesson's word list), not in tokens
            inputs[name] = " ".join(inputs[name].rstrip(".").split()[:limit])
    return inputs


def board_inputs(view, lesson_step: int) -> dict:
    """The board's request of the view at this point of the lesson (its first or second example)."""
    return dict(view.examples[lesson_step % min(2, len(view.examples))])
