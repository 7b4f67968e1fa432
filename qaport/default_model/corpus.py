"""Synthetic extractive-QA corpus: templated news-style paragraphs with distractors.

Names come from syllable pools split into disjoint train / held-out halves, so the held-out set
uses names the model never saw: it must answer from the language cues, not from memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

BANNED = (
    "Super Bowl",
    "Denver",
    "Broncos",
    "Carolina",
    "Panthers",
    "Levi",
    "Santa Clara",
    "San Francisco",
    "National Football League",
    "American Football Conference",
    "National Football Conference",
)

# single consonants, clusters and varied vowels, so that names split into word pieces the way real,
# unseen names do ("Br", "##on", "##cos") and not only into the pieces of one syllable shape
_ONSETS = [
    "B",
    "D",
    "F",
    "G",
    "K",
    "L",
    "M",
    "N",
    "P",
    "R",
    "S",
    "T",
    "V",
    "Z",
    "H",
    "C",
    "W",
    "J",
    "Y",
    "Br",
    "Cr",
    "Dr",
    "Fr",
    "Gr",
    "Pr",
    "Tr",
    "Bl",
    "Cl",
    "Fl",
    "Gl",
    "Pl",
    "Sl",
    "Ch",
    "Sh",
    "Th",
    "St",
    "Sp",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ee", "oo", "ea", "y", "au", "ie"]
_CODAS = ["", "", "n", "r", "l", "s", "t", "m", "nc", "nd", "rt", "st", "ck", "ng", "x", "rn"]
_ENDINGS = ["", "", "", "a", "o", "en", "er", "on", "is", "ton", "by", "ford"]
_MASCOTS = [
    "Hawks",
    "Lions",
    "Rangers",
    "Falcons",
    "Titans",
    "Wolves",
    "Comets",
    "Pilots",
    "Stallions",
    "Giants",
    "Vikings",
    "Rockets",
    "Bears",
    "Sharks",
    "Eagles",
    "Knights",
    "Mariners",
    "Raptors",
    "Hornets",
    "Foxes",
    "Owls",
    "Bison",
    "Cougars",
    "Jaguars",
    "Ravens",
    "Storm",
    "Thunder",
    "Blazers",
    "Cardinals",
    "Dolphins",
    "Orcas",
    "Lynx",
    "Mustangs",
    "Pirates",
    "Rebels",
    "Spartans",
    "Tigers",
    "Wildcats",
    "Wizards",
    "Yetis",
]
_SPORTS = ["American football", "basketball", "hockey", "baseball", "rugby", "soccer", "volleyball", "handball"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
_EVENT_WORDS = ["Cup", "Trophy", "Classic", "Championship", "Shield", "Final", "Series", "Bowl"]
# general news prose: no answers in it, a broad everyday vocabulary for the tokenizer and the model
_PROSE = [
    "The decision was announced at a press conference, and several officials said it had been expected for months.",
    "In the following years, the organisation expanded into education, research and public events.",
    "Many residents supported the plan, although some argued that it would increase traffic in the historic centre.",
    "The building was designed by a local architect and features a large hall, a small garden and a public library.",
    "In a statement, the board thanked its members and promised a detailed report before the end of the year.",
    "Because of the weather, part of the programme was moved indoors and several performances were cancelled.",
    "A special coin was issued to mark the anniversary, and the celebrations continued for a whole week.",
    "The museum also holds a collection of historical maps, letters and photographs donated by former employees.",
    "Television coverage reached millions of viewers, making it one of the most watched broadcasts of the season.",
    "Several changes to the rules were introduced temporarily, including a new system for naming the events.",
    "The logo, which featured bright colours and large numbers, was later replaced by a simpler design.",
    "Historians still debate the origin of the tradition, which is known from documents written centuries ago.",
    "Volunteers helped to organise transport, food and accommodation for visitors from across the region.",
    "According to the official report, the project was completed on time and slightly under budget.",
    "The company's headquarters moved twice before settling in a former factory near the railway station.",
    "Students from the university took part in the research, which was funded by a national grant.",
    "Fans travelled from many countries, and hotels in the area were fully booked for several days.",
    "The ceremony included music, speeches and a short film about the history of the competition.",
    "After a long debate, the council voted to keep the old name rather than adopt a new one.",
    "Public transport was free on the day, and extra trains were added to the schedule.",
    "Critics praised the event as a golden moment, while others called the prices too high.",
    "The area is known for its mild climate, its beaches and its growing technology industry.",
]
_REGIONS = [
    "National",
    "American",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Pacific",
    "Atlantic",
    "Central",
    "United",
    "Continental",
    "Coastal",
]
_GAMES = ["Football", "Hockey", "Baseball", "Basketball", "Rugby", "Soccer", "Lacrosse", "Volleyball"]
_KINDS = ["company", "museum", "bakery", "university", "orchestra", "newspaper", "hospital", "airline", "bank"]


def _word(rng: random.Random, min_syll: int = 2, max_syll: int = 2) -> str:
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)]
    for _ in range(rng.randint(min_syll, max_syll) - 1):
        parts.append(rng.choice(_ONSETS).lower() + rng.choice(_VOWELS) + rng.choice(_CODAS))
    return "".join(parts) + rng.choice(_ENDINGS)


@dataclass
class Pools:
    first: list[str]
    last: list[str]
    places: list[str]
    mascots: list[str]
    words: list[str]


def make_pools(split: str, seed: int = 1234, size: int = 1500) -> Pools:
    """Disjoint name pools: the same generator, every name assigned to exactly one split."""
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < size * 10:
        w = _word(rng)
        if 3 <= len(w) <= 10 and w not in seen and not any(b.split()[0] in w for b in BANNED):
            seen.add(w)
            names.append(w)
    rng.shuffle(names)
    half = len(names) // 2
    mine = names[:half] if split == "train" else names[half:]
    n = len(mine) // 5
    # team names: a fixed list of real-looking mascots plus generated plurals ("Vaimkes"), so that the
    # model learns where a team name ends from its shape, not from a closed list
    mascots = (_MASCOTS[:30] if split == "train" else _MASCOTS[30:]) * 4
    mascots += [w if w.endswith("s") else w + "s" for w in mine[4 * n :]]
    return Pools(mine[:n], mine[n : 2 * n], mine[2 * n : 3 * n], mascots, mine[3 * n : 4 * n])


@dataclass
class QA:
    question: str
    answer: str


@dataclass
class Paragraph:
    sentences: list[str] = field(default_factory=list)
    qas: list[QA] = field(default_factory=list)


class Generator:
    def __init__(self, pools: Pools, rng: random.Random) -> None:
        self.p, self.rng = pools, rng

    def person(self) -> str:
        return f"{self.rng.choice(self.p.first)} {self.rng.choice(self.p.last)}"

    def place(self) -> str:
        r = self.rng.random()
        w = self.rng.choice(self.p.places)
        if r < 0.1:
            return f"{self.rng.choice(['New', 'Port', 'East', 'West', 'North', 'South', 'Lake', 'Fort'])} {w}"
        return w

    def team(self) -> str:
        return f"{self.place()} {self.rng.choice(self.p.mascots)}"

    def date(self) -> str:
        return f"{self.rng.choice(_MONTHS)} {self.rng.randint(1, 28)}, {self.rng.randint(1950, 2024)}"

    def event(self) -> str:
        r = self.rng.random()
        w = self.rng.choice(self.p.words)
        kind = self.rng.choice(_EVENT_WORDS)
        if r < 0.4:
            return f"{w} {kind} {self.rng.randint(2, 60)}"
        return f"{w} {kind}"

    def org(self) -> str:
        w = self.rng.choice(self.p.words)
        return self.rng.choice(
            [
                f"{w} Labs",
                f"{w} Records",
                f"the {w} Museum",
                f"{w} Airways",
                f"{w} Bank",
                f"the {w} Institute",
                f"{w} Motors",
                f"{w} Press",
            ]
        )

    def _conference(self) -> str:
        rng = self.rng
        w1, w2 = rng.choice(self.p.words), rng.choice(self.p.words)
        name = rng.choice(
            [
                f"{w1} {w2} Conference",
                f"{w1} Conference",
                f"{rng.choice(_REGIONS)} {w1} Conference",
                f"{rng.choice(_REGIONS)} {rng.choice(_GAMES)} Conference",
            ]
        )
        if rng.random() < 0.5:
            name += f" ({''.join(x[0] for x in name.split()).upper()})"
        return name

    def _league(self) -> str:
        rng = self.rng
        kind = rng.choice(["League", "Association", "Federation"])
        name = rng.choice([f"{rng.choice(self.p.words)} {kind}", f"{rng.choice(_REGIONS)} {rng.choice(_GAMES)} {kind}"])
        if rng.random() < 0.5:
            name += f" ({''.join(x[0] for x in name.split()).upper()})"
        return name

    # --- fact builders: each returns (sentences, qas) ---------------------------------------
    def game(self) -> Paragraph:
        rng = self.rng
        winner, loser = self.team(), self.team()
        while loser.split()[0] == winner.split()[0]:
            loser = self.team()
        event, year = self.event(), rng.randint(1960, 2024)
        league = self._league()
        conf_a = self._conference()
        conf_b = self._conference()
        hi, lo = rng.randint(14, 45), rng.randint(3, 13)
        score = f"{hi}{rng.choice(['–', '-'])}{lo}"
        venue = f"{rng.choice(self.p.words)} {rng.choice(['Stadium', 'Arena', 'Field', 'Park'])}"
        city = self.place()
        date = f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, {year + 1}"
        sport = rng.choice(_SPORTS)
        intro = (
            rng.choice(
                [
                    f"{event} was an {sport} game to determine the champion of the {league} for the {year} season.",
                    f"{event} was the final game of the {year} {league} season.",
                    f"The {event} decided the {year} champion of the {league}.",
                ]
            )
            .replace("an b", "a b")
            .replace("an h", "a h")
            .replace("an r", "a r")
            .replace("an s", "a s")
            .replace("an v", "a v")
        )
        ordinal = rng.choice(_ORDINALS)
        title = event.split()[-1] if event.split()[-1].isalpha() else "league"
        win = rng.choice(
            [
                f"The {conf_a} champion {winner} defeated the {conf_b} champion {loser} {score} to earn their "
                f"{ordinal} {title} title.",
                f"The {winner} defeated the {loser} {score}.",
                f"The {winner} beat the {loser} by a score of {score}.",
                f"The {loser} lost {score} to the {winner}.",
                f"In the final, the {winner} won against the {loser}, {score}.",
                f"The {winner} claimed the title after beating the {loser} {score}.",
            ]
        )
        played = rng.choice(
            [
                f"The game was played on {date}, at {venue} in {city}.",
                f"It was held at {venue} in {city} on {date}.",
            ]
        )
        extra = rng.choice(
            [
                f"About {rng.randint(20, 99)},{rng.randint(100, 999)} fans attended the game.",
                "The league celebrated the occasion with various themed initiatives.",
                "Both teams had reached the final after long playoff runs.",
                f"As this was the {rng.randint(5, 60)}th {event}, the league marked it with special events.",
                f"The tradition of naming each {event.split()[1]} game after its host city was kept for the {event}.",
            ]
        )
        short = event if rng.random() < 0.5 else " ".join(w for w in event.split() if not w.isdigit())
        para = Paragraph([intro, win, played, extra])
        para.qas += [
            QA(
                rng.choice(
                    [
                        f"Who won the {short}?",
                        f"Which team won the {short}?",
                        "Who won the game?",
                        f"Who won {short}?",
                        "Which team won the title?",
                    ]
                ),
                winner,
            ),
            QA(
                rng.choice(
                    [f"Who lost the {short}?", f"Which team lost the {short}?", f"Who did the {winner} defeat?"]
                ),
                loser,
            ),
            QA(
                rng.choice(
                    [
                        f"Where was the {short} played?",
                        "Where was the game played?",
                        f"In which stadium was the {short} played?",
                    ]
                ),
                venue,
            ),
            QA(rng.choice([f"When was the {short} played?", "When was the game played?"]), date),
            QA(rng.choice(["What was the final score?", f"What was the score of the {short}?"]), score),
        ]
        return para

    def biography(self) -> Paragraph:
        rng = self.rng
        who, city, date, org = self.person(), self.place(), self.date(), self.org()
        role = rng.choice(["an engineer", "a painter", "a chemist", "a pilot", "a writer", "a lawyer", "a chef"])
        year = rng.randint(1960, 2023)
        s = [
            rng.choice(
                [f"{who} was born in {city} on {date}.", f"Born on {date} in {city}, {who} grew up near the coast."]
            ),
            rng.choice(
                [
                    f"{who} worked as {role} before founding {org} in {year}.",
                    f"In {year}, {who} founded {org}.",
                    f"{org[0].upper() + org[1:]} was founded by {who} in {year}.",
                ]
            ),
        ]
        n = rng.randint(12, 9000)
        s.append(rng.choice([f"{org[0].upper() + org[1:]} now employs {n} people.", f"Today {org} has {n} employees."]))
        para = Paragraph(s)
        para.qas += [
            QA(rng.choice([f"Where was {who} born?", f"In which city was {who} born?"]), city),
            QA(rng.choice([f"When was {who} born?", f"On what date was {who} born?"]), date),
            QA(rng.choice([f"Who founded {org}?", f"Who started {org}?"]), who),
            QA(
                rng.choice(
                    [f"When was {org} founded?", f"In what year was {org} founded?", f"When did {who} found {org}?"]
                ),
                str(year),
            ),
            QA(rng.choice([f"How many people does {org} employ?", f"How many employees does {org} have?"]), str(n)),
        ]
        return para

    def place_fact(self) -> Paragraph:
        rng = self.rng
        city, river, region = self.place(), self.rng.choice(self.p.words), self.rng.choice(self.p.words)
        pop = rng.randint(2, 900) * 1000 + rng.randint(0, 999)
        mayor = self.person()
        year = rng.randint(1100, 1990)
        s = [
            rng.choice(
                [
                    f"{city} is a city on the {river} River in the {region} region.",
                    f"The city of {city} lies on the {river} River, in {region}.",
                ]
            ),
            rng.choice([f"It has a population of {pop}.", f"About {pop} people live in {city}."]),
            rng.choice(
                [f"The current mayor is {mayor}.", f"{mayor} has been mayor of {city} since {rng.randint(1990, 2023)}."]
            ),
        ]
        first = rng.random() < 0.5
        s.append(f"The town was first mentioned in {year}." if first else f"{city} received its charter in {year}.")
        para = Paragraph(s)
        para.qas += [
            QA(rng.choice([f"Which river is {city} on?", f"On what river does {city} lie?"]), f"{river} River"),
            QA(rng.choice([f"How many people live in {city}?", f"What is the population of {city}?"]), str(pop)),
            QA(rng.choice([f"Who is the mayor of {city}?", f"Who has been mayor of {city}?"]), mayor),
            QA(f"When was {city} first mentioned?" if first else f"When did {city} receive its charter?", str(year)),
            QA(f"In which region is {city}?", region),
        ]
        return para

    def filler(self) -> str:
        """A sentence with no answer in it: generic prose that the model must learn to look past."""
        rng = self.rng
        if rng.random() < 0.6:
            return rng.choice(_PROSE)
        w, w2 = rng.choice(self.p.words), rng.choice(self.p.words)
        year, n = rng.randint(1900, 2024), rng.randint(2, 90)
        building = rng.choice(["theatre", "bridge", "library", "market"])
        colour = rng.choice(["silver", "gold", "blue", "green"])
        topic = rng.choice(["festival", "harbour", "archive"])
        sight = rng.choice(["Hall", "Market", "Tower", "Garden"])
        period = rng.choice(["annual", "weekly"])
        return rng.choice(
            [
                f"The {w} {building} was renovated in {year} and reopened later.",
                f'Critics described the {w} festival as "a quiet success" in their reviews.',
                f"Local newspapers, including the {w} Gazette, covered the story for weeks.",
                f"The organisers introduced {colour}-themed decorations and a new logo.",
                f'The name "{w}" comes from an old word for a river crossing.',
                f"Tickets were sold out within {n} hours of going on sale.",
                f"({w} is also the name of a small village in the {w2} valley.)",
                f"Weather conditions were mild, with temperatures around {n} degrees.",
                f"A documentary about the {w} {topic} was released in {year}.",
                f"Some records, written in an old style of {w2} script, were only translated much later.",
                f"Visitors often confuse it with {w}'s {sight}, which is nearby.",
                f"The committee also decided to stop printing the {period} bulletin for a while.",
            ]
        )

    def paragraph(self) -> tuple[str, list[tuple[str, str, int]]]:
        """One context with 1-3 fact blocks (the rest are distractors) plus filler sentences, and its QAs."""
        rng = self.rng
        n_blocks = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
        # one block per kind: the others are distractors, and generic questions ("Who won the game?") stay unambiguous
        kinds = rng.sample([self.game, self.biography, self.place_fact], n_blocks)
        blocks = [k() for k in kinds]
        # filler only between or after blocks, so that "It ..." sentences keep their referent
        pieces: list[str] = []
        for b in blocks:
            pieces.append(" ".join(b.sentences))
            if rng.random() < 0.3:
                pieces.append(" ".join(self.filler() for _ in range(rng.randint(1, 2))))
        text = " ".join(pieces)
        out = []
        for b in blocks:
            for qa in b.qas:
                if text.count(qa.answer) == 1 and all(x not in text + qa.question for x in BANNED):
                    out.append((qa.question, qa.answer, text.index(qa.answer)))
        rng.shuffle(out)
        return text, out[:4]


def paragraphs(split: str, label: str, attempts: int | None = None) -> Iterator[tuple[str, list[tuple[str, str, int]]]]:
    """The paragraphs that have questions, from a generator over ``split``'s pools seeded by ``label``:
    from ``attempts`` generated paragraphs (the training corpus counts attempts), or endlessly."""
    gen = Generator(make_pools(split), random.Random(label))
    made = 0
    while attempts is None or made < attempts:
        made += 1
        text, qas = gen.paragraph()
        if qas:
            yield text, qas
