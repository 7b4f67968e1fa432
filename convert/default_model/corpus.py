"""Synthetic extractive QA: templated news-style paragraphs, questions, and answer spans.

A paragraph is a few *stories* (a championship game, a person, a company, a city, ...), each a set of
facts. Every fact has many sentence phrasings and many question phrasings, and paragraphs mix in
distractor facts and filler sentences, so the model has to read the question's cues instead of
memorising templates. Answer offsets are recorded while the text is rendered, never searched for.
Everything is driven by one ``random.Random(seed)``; the same seed gives the same corpus.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from convert.default_model.pools import Pools, check_clean, pools

LENGTH_CLASSES = {
    "tiny": (40, 160),
    "short": (120, 450),
    "medium": (450, 1000),
    "long": (1000, 1650),
}
"""Context length in characters; about 5 characters a token, so long is up to ~330 tokens."""


@dataclass(frozen=True)
class Fact:
    """One fact: phrasings of its sentence, and (answer slot, question phrasings) pairs."""

    sentences: tuple[str, ...]
    questions: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass
class Story:
    slots: dict[str, str]
    facts: list[Fact]
    """``facts[0]`` opens the story and is always kept."""
    subject: tuple[str, ...] = ()
    """References to the story's subject for ``{S}``: the full name first, then pronoun / short forms."""
    fillers: tuple[str, ...] = ()
    title: str = ""
    boost: Mapping[str, float] = field(default_factory=dict)
    """Sampling weight of questions by answer slot (default 1): the showcase questions come up more."""


@dataclass(frozen=True)
class QA:
    question: str
    answer: str
    start: int


@dataclass
class Paragraph:
    title: str
    context: str
    qas: list[QA] = field(default_factory=list)


def render(template: str, slots: Mapping[str, str]) -> tuple[str, dict[str, tuple[int, int]]]:
    """Fill ``{slot}`` fields, remembering where each slot's value landed (first occurrence)."""
    out: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        pos += len(literal)
        if name is None:
            continue
        value = slots[name]
        spans.setdefault(name, (pos, pos + len(value)))
        out.append(value)
        pos += len(value)
    text = "".join(out)
    return text[0].upper() + text[1:], spans


class Picker:
    """Draws fresh entities for one paragraph from one side of the pools, never the same one twice."""

    def __init__(self, rng: random.Random, side: Pools) -> None:
        self.rng = rng
        self.side = side
        self.used: set[str] = set()

    def name(self, kind: str) -> str:
        """A fresh name of one kind: a real one (``REAL_SHARE``) or one built from a pseudo-word."""
        real: tuple[str, ...] = getattr(self.side, kind, ())
        for _ in range(50):
            if real and self.rng.random() < REAL_SHARE[kind]:
                value = self.rng.choice(real)
            else:
                value = self._pseudo(kind, self.rng.choice(self.side.pseudo))
            if value not in self.used:
                self.used.add(value)
                return value
        return value

    def _pseudo(self, kind: str, word: str) -> str:
        if kind == "mascots":
            return word if word.endswith("s") else word + "s"
        if kind == "companies":
            return f"{word} {self.rng.choice(self.side.company_suffixes)}"
        if kind == "cities" and self.rng.random() < 0.12:
            return self.rng.choice(("Port {}", "Lake {}", "New {}", "Fort {}", "Saint {}", "{} Falls", "{} Springs")).format(word)
        return word

    def person(self) -> tuple[str, str, str]:
        """(full name, surname, pronoun)."""
        surname = self.name("surnames")
        return f"{self.name('first')} {surname}", surname, self.rng.choice(("he", "she"))

    def city(self) -> str:
        return self.name("cities")

    def word(self) -> str:
        return self.name("words")

    def team(self) -> tuple[str, str]:
        """(full team name, mascot)."""
        mascot = self.name("mascots")
        return f"{self.city()} {mascot}", mascot

    def year(self, lo: int = 1950, hi: int = 2024) -> str:
        return str(self.rng.randint(lo, hi))

    def date(self, year: str | None = None) -> str:
        year = year or self.year()
        month = self.rng.choice(MONTHS)
        day = self.rng.randint(1, 28)
        return self.rng.choice((f"{month} {day}, {year}", f"{day} {month} {year}", f"{month} {day}, {year}"))

    def number(self, lo: int, hi: int) -> str:
        value = self.rng.randint(lo, hi)
        return f"{value:,}" if value >= 1000 and self.rng.random() < 0.8 else str(value)

    def ordinal(self, n: int) -> str:
        if n <= len(ORDINAL_WORDS) and self.rng.random() < 0.7:
            return ORDINAL_WORDS[n - 1]
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"


REAL_SHARE = {"first": 0.35, "surnames": 0.3, "cities": 0.3, "mascots": 0.5, "adjectives": 0.5}
"""How often a real name is drawn instead of a pseudo-word, per kind."""
MONTHS = (
    "January February March April May June July August September October November December".split()
)
ORDINAL_WORDS = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()

Builder = Callable[[Picker], Story]


def _builders() -> dict[str, tuple[Builder, float]]:
    from convert.default_model import topics_people, topics_places, topics_sport

    return {**topics_sport.BUILDERS, **topics_people.BUILDERS, **topics_places.BUILDERS}


def _story_sentences(
    rng: random.Random, story: Story, budget: int, fillers: tuple[str, ...]
) -> list[tuple[str, dict[str, tuple[int, int]], Fact | None]]:
    """Render the story's lead fact and as many others (plus fillers) as fit in ``budget`` chars."""
    rest = story.facts[1:]
    rng.shuffle(rest)
    chosen: list[Fact | str] = [story.facts[0], *rest]
    for filler in rng.sample(fillers, min(len(fillers), rng.randint(0, 2))):
        chosen.insert(rng.randint(1, len(chosen)), filler)
    out: list[tuple[str, dict[str, tuple[int, int]], Fact | None]] = []
    used = 0
    for i, item in enumerate(chosen):
        slots = dict(story.slots)
        if story.subject:
            slots["S"] = story.subject[0] if i == 0 else rng.choice(story.subject)
        template = item if isinstance(item, str) else rng.choice(item.sentences)
        text, spans = render(template, slots)
        if i > 0 and used + len(text) + 1 > budget:
            break
        out.append((text, spans, None if isinstance(item, str) else item))
        used += len(text) + 1
    return out


def paragraph(rng: random.Random, side: Pools, lo: int, hi: int, max_questions: int = 4) -> Paragraph:
    """One paragraph of ``lo``-``hi`` characters (the first story may overshoot ``lo`` a little)."""
    builders = _builders()
    picker = Picker(rng, side)
    target = rng.randint(lo, hi)
    kinds = list(builders)
    weights = [w for _, w in builders.values()]
    parts: list[str] = []
    length = 0
    candidates: list[tuple[float, QA]] = []
    title = ""
    seen_kinds: set[str] = set()
    while length < target and len(seen_kinds) < 4:
        kind = rng.choices(kinds, weights)[0]
        if kind in seen_kinds and not kind.startswith("person"):
            continue
        seen_kinds.add(kind)
        story = builders[kind][0](picker)
        title = title or story.title
        for text, spans, fact in _story_sentences(rng, story, max(target - length, 1), story.fillers + GENERIC_FILLERS):
            offset = length + (1 if parts else 0)
            parts.append(text)
            length = offset + len(text)
            if fact is None:
                continue
            for slot, questions in fact.questions:
                if slot in spans:
                    question = rng.choice(questions).format(**story.slots)
                    answer = text[spans[slot][0] : spans[slot][1]]
                    qa = QA(question[0].upper() + question[1:], answer, offset + spans[slot][0])
                    candidates.append((rng.expovariate(story.boost.get(slot, 1.0)), qa))
    context = " ".join(parts)
    candidates.sort(key=lambda c: c[0])  # a weighted random order
    qas: list[QA] = []
    for _, qa in candidates:
        if len(qas) < max_questions and all(q.question != qa.question for q in qas):
            qas.append(qa)
    return Paragraph(title or "Untitled", context, qas)


GENERIC_FILLERS = (
    "Local newspapers covered the story in detail.",
    "The weather that week was unusually mild.",
    "Several details were only made public years later.",
    "Critics at the time were divided.",
    "Further information can be found in the city archive.",
    "The event was broadcast on regional television and radio.",
    "A short documentary about it was released the following spring.",
    "Not everyone agreed with this account, and some of it is still debated.",
)


def generate(
    seed: int, count: int, split: str = "train", mix: Mapping[str, float] | None = None, max_questions: int = 4
) -> Iterator[Paragraph]:
    """``count`` paragraphs with at least one question each, lengths drawn from ``mix``."""
    rng = random.Random(seed)
    side = pools(split)
    mix = mix or {"short": 0.45, "medium": 0.35, "long": 0.2}
    classes = list(mix)
    made = 0
    while made < count:
        lo, hi = LENGTH_CLASSES[rng.choices(classes, [mix[c] for c in classes])[0]]
        para = paragraph(rng, side, lo, hi, max_questions)
        if not para.qas:
            continue
        if split == "train":
            check_clean(para.context + " ".join(q.question for q in para.qas))
        for qa in para.qas:
            if para.context[qa.start : qa.start + len(qa.answer)] != qa.answer:
                msg = f"answer {qa.answer!r} is not at {qa.start} in {para.context!r}"
                raise AssertionError(msg)
        made += 1
        yield para


def to_squad(paragraphs: list[Paragraph], prefix: str = "q") -> dict[str, object]:
    """SQuAD v1.1 JSON: one article per paragraph (titles repeat little, so grouping adds nothing)."""
    data = []
    n = 0
    for para in paragraphs:
        qas = []
        for qa in para.qas:
            qas.append({"id": f"{prefix}{n:05d}", "question": qa.question, "answers": [{"text": qa.answer, "answer_start": qa.start}]})
            n += 1
        data.append({"title": para.title, "paragraphs": [{"context": para.context, "qas": qas}]})
    return {"version": "1.1", "data": data}
