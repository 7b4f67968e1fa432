"""Validation inputs: the model's held-out set, the Super Bowl example, and benchmark-protocol texts.

The protocol of the original DistilBERT + TF.js post: short contexts of 500-1,000 characters and
long ones of 4,000-5,000 characters. The texts are generated (seeded) so runs are comparable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from validate.squad import Example, load_examples

SHORT_RANGE = (500, 1000)
LONG_RANGE = (4000, 5000)

_FIRST = ["Mara", "Tobias", "Ingrid", "Kenji", "Amara", "Lucas", "Priya", "Oskar", "Lena", "Rafael", "Sofia", "Jonas"]
_LAST = ["Halvorsen", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Castillo", "Brennan", "Novak", "Ferreira", "Quinn"]
_CITIES = ["Port Elwyn", "Maribor", "Calder Bay", "Rostock", "Valparaiso", "Tromso", "Ashford", "Kilkenny"]
_ORGS = [
    "Northwind Labs",
    "the Harbor Council",
    "Bluefield Rail",
    "the Civic Orchestra",
    "Meridian Press",
    "Aster Foods",
]
_TOPICS = [
    "a new library",
    "the river bridge",
    "a solar farm",
    "the winter festival",
    "a tram line",
    "the city archive",
]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


@dataclass(frozen=True)
class Fact:
    sentence: str
    question: str
    answer: str


def _fact(rng: random.Random) -> Fact:
    who = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    city = rng.choice(_CITIES)
    org = rng.choice(_ORGS)
    topic = rng.choice(_TOPICS)
    year = str(rng.randint(1950, 2024))
    month = rng.choice(_MONTHS)
    count = str(rng.randint(3, 950))
    kind = rng.randrange(4)
    if kind == 0:
        return Fact(f"In {month} {year}, {who} of {org} opened {topic} in {city}.", f"Who opened {topic}?", who)
    if kind == 1:
        return Fact(
            f"{org.capitalize()} moved its offices to {city} in {year}.", f"Where did {org} move its offices?", city
        )
    if kind == 2:
        return Fact(
            f"The work on {topic} employed {count} people for two years.",
            f"How many people did the work on {topic} employ?",
            count,
        )
    return Fact(f"{who} was born in {city} in {year} and later joined {org}.", f"When was {who} born?", year)


def _context(rng: random.Random, low: int, high: int) -> tuple[str, list[Fact]]:
    facts: list[Fact] = []
    text = ""
    while len(text) < low:
        fact = _fact(rng)
        candidate = (text + " " + fact.sentence).strip()
        if len(candidate) > high:
            break
        facts.append(fact)
        text = candidate
    return text, facts


def protocol_examples(kind: str, count: int, seed: int = 0, questions_per_context: int = 3) -> list[Example]:
    """``count`` questions over contexts of the post's short or long length class."""
    low, high = SHORT_RANGE if kind == "short" else LONG_RANGE
    rng = random.Random(f"{kind}-{seed}")
    out: list[Example] = []
    while len(out) < count:
        context, facts = _context(rng, low, high)
        asked = set()
        for fact in rng.sample(facts, min(questions_per_context, len(facts))):
            if fact.question in asked or context.count(fact.answer) != 1:
                continue
            asked.add(fact.question)
            out.append(Example(f"{kind}-{len(out)}", fact.question, context, [fact.answer]))
            if len(out) == count:
                break
    return out


def super_bowl_example() -> Example:
    from convert.default_model import SUPER_BOWL_ANSWER, SUPER_BOWL_CONTEXT, SUPER_BOWL_QUESTION

    return Example("super-bowl-50", SUPER_BOWL_QUESTION, SUPER_BOWL_CONTEXT, [SUPER_BOWL_ANSWER])


def heldout_examples(limit: int | None = None) -> list[Example]:
    from convert.default_model import HELDOUT_PATH

    examples = load_examples(Path(HELDOUT_PATH))
    return examples[:limit] if limit else examples
