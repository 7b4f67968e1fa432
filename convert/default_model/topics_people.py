"""People stories: short biographies, elections and prizes.

Biographies refer to their subject by full name, surname or pronoun, so questions (which always use
the full name) must be resolved across sentences; elections and prizes add "Who won ...?" questions
whose answer is a person, not a team.
"""

from __future__ import annotations

from convert.default_model.corpus import Fact, Picker, Story

_PROFESSIONS = (
    "architect", "painter", "engineer", "physicist", "novelist", "composer", "economist", "journalist",
    "photographer", "chemist", "sculptor", "historian", "surgeon", "film director", "violinist", "poet",
    "mathematician", "diplomat", "geologist", "chef", "lawyer", "astronomer", "botanist", "playwright",
)  # fmt: skip
_FIELDS = (
    "physics", "law", "medicine", "economics", "architecture", "music", "history", "chemistry",
    "mathematics", "philosophy", "civil engineering", "biology", "fine art", "political science",
)  # fmt: skip
_INDUSTRIES = ("software", "shipping", "food", "energy", "textile", "publishing", "robotics", "pharmaceutical")

_BIRTH = Fact(
    (
        "{P} (born {D} in {BC}) is {ART} {PROF}.",
        "{P} is {ART} {PROF} who was born in {BC} on {D}.",
        "Born in {BC} on {D}, {P} became one of the best-known {PROF}s of {POS} generation.",
        "{P} was born on {D} in {BC} and trained as {ART} {PROF}.",
        "The {PROF} {P} was born in {BC}, where {PRON} grew up, on {D}.",
    ),
    (
        ("BC", ("Where was {P} born?", "In which city was {P} born?", "What is {P}'s birthplace?")),
        ("D", ("When was {P} born?", "What is {P}'s date of birth?", "On what date was {P} born?")),
        ("PROF", ("What is {P}'s profession?", "What does {P} do for a living?", "What is {P}'s job?")),
    ),
)
_BIO_FACTS = [
    Fact(
        ("{S} studied {FIELD} at the University of {UC}, graduating in {GY}.",
         "After studying {FIELD} at the University of {UC}, {S} graduated in {GY}.",
         "{S} graduated from the University of {UC} in {GY} with a degree in {FIELD}."),
        (("FIELD", ("What did {P} study?", "What subject did {P} study at university?")),
         ("UC", ("Where did {P} study?", "Which university did {P} attend?")),
         ("GY", ("When did {P} graduate?", "In what year did {P} graduate?"))),
    ),
    Fact(
        ("In {FY}, {S} founded {CO}, a {IND} company based in {CC}.",
         "{P} founded {CO} in {FY}.",
         "{CO}, a {IND} firm in {CC}, was founded by {P} in {FY}."),
        (("CO", ("What company did {P} found?", "Which company was founded by {P}?")),
         ("P", ("Who founded {CO}?", "Who started {CO}?")),
         ("FY", ("When did {P} found {CO}?", "In what year was {CO} founded?")),
         ("CC", ("Where is {CO} based?", "In which city is {CO} based?"))),
    ),
    Fact(
        ("{S} married the {PROF2} {SPOUSE} in {MY}.", "In {MY}, {S} married {SPOUSE}, {ART2} {PROF2}.",
         "{SPOUSE}, {ART2} {PROF2}, married {P} in {MY}."),
        (("SPOUSE", ("Who did {P} marry?", "Who is {P}'s spouse?", "Whom did {P} marry in {MY}?")),
         ("MY", ("When did {P} marry {SPOUSE}?", "In what year did {P} get married?"))),
    ),
    Fact(
        ("{S} has {K} children and lives in {LC}.", "Today {S} lives in {LC} with {POS} {K} children."),
        (("K", ("How many children does {P} have?",)), ("LC", ("Where does {P} live?", "In which city does {P} live?"))),
    ),
    Fact(
        ("In {AY}, {S} received the {PRIZE} for {WORK}.", "{S} was awarded the {PRIZE} in {AY} for {WORK}.",
         "{P} won the {PRIZE} in {AY} for {WORK}."),
        (("PRIZE", ("What award did {P} receive in {AY}?", "Which prize did {P} win?")),
         ("AY", ("When did {P} win the {PRIZE}?", "In what year did {P} receive the {PRIZE}?")),
         ("WORK", ("For what did {P} receive the {PRIZE}?", "Why was {P} awarded the {PRIZE}?")),
         ("P", ("Who won the {PRIZE} in {AY}?", "Who received the {PRIZE}?"))),
    ),
    Fact(
        ("{S} has written {NB} books, including \"{BOOK}\".", "{S} is the author of {NB} books, the best known being \"{BOOK}\"."),
        (("NB", ("How many books has {P} written?", "How many books did {P} write?")),
         ("BOOK", ("What is the title of {P}'s best-known book?", "Which book by {P} is mentioned?"))),
    ),
    Fact(
        ("{S} moved to {MC} in {MVY} to work for {EMP}.", "In {MVY}, {S} moved to {MC}, where {PRON} joined {EMP}."),
        (("MC", ("Where did {P} move in {MVY}?", "To which city did {P} move?")),
         ("EMP", ("Who did {P} work for in {MC}?", "Which company did {P} join in {MVY}?")),
         ("MVY", ("When did {P} move to {MC}?",))),
    ),
    Fact(
        ("{S} died in {DC} on {DD} at the age of {AGE}.", "{S} died on {DD} in {DC}, aged {AGE}."),
        (("DC", ("Where did {P} die?", "In which city did {P} die?")), ("DD", ("When did {P} die?",)),
         ("AGE", ("How old was {P} when {PRON} died?", "At what age did {P} die?"))),
    ),
    Fact(
        ("Early on, {S} trained under the {PROF} {MENTOR}.", "{MENTOR} was {P}'s teacher for {TY} years."),
        (("MENTOR", ("Who trained {P}?", "Who was {P}'s teacher?")),
         ("TY", ("How many years did {MENTOR} teach {P}?",))),
    ),
]
_BIO_FILLERS = ("{S} rarely gives interviews.", "{S} speaks three languages.", "Little is known about {POS} early years.")


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiou" else "a"


def _prize(pick: Picker) -> str:
    return pick.rng.choice((
        f"{pick.name('surnames')} Prize", f"{pick.name('adjectives')} Medal",
        f"{pick.city()} Award", f"{pick.name('surnames')} Medal",
    ))  # fmt: skip


def person(pick: Picker) -> Story:
    p, surname, pron = pick.person()
    born = pick.year(1900, 1995)
    by = int(born)
    slots = {
        "P": p, "PRON": pron, "POS": "his" if pron == "he" else "her", "D": pick.date(born), "BC": pick.city(),
        "PROF": pick.rng.choice(_PROFESSIONS), "PROF2": pick.rng.choice(_PROFESSIONS),
        "FIELD": pick.rng.choice(_FIELDS), "UC": pick.city(), "GY": str(by + pick.rng.randint(20, 26)),
        "FY": str(by + pick.rng.randint(25, 45)), "CO": pick.name("companies"),
        "IND": pick.rng.choice(_INDUSTRIES), "CC": pick.city(), "SPOUSE": pick.person()[0],
        "MY": str(by + pick.rng.randint(20, 40)), "K": str(pick.rng.randint(2, 7)), "LC": pick.city(),
        "PRIZE": _prize(pick), "AY": str(by + pick.rng.randint(30, 60)),
        "WORK": pick.rng.choice(("work on bridges", "a study of rivers", "a series of novels", "research on vaccines",
                                 "a cycle of songs", "services to education", "a history of the city")),
        "NB": str(pick.rng.randint(2, 40)), "BOOK": f"The {pick.word()} {pick.rng.choice(('Years', 'House', 'Road'))}",
        "MC": pick.city(), "MVY": str(by + pick.rng.randint(22, 50)), "EMP": pick.name("companies"),
        "DC": pick.city(), "DD": pick.date(str(min(by + pick.rng.randint(60, 95), 2024))),
        "AGE": str(pick.rng.randint(60, 95)),
        "MENTOR": pick.person()[0], "TY": str(pick.rng.randint(2, 9)),
    }  # fmt: skip
    slots["ART"], slots["ART2"] = _article(slots["PROF"]), _article(slots["PROF2"])
    return Story(slots, [_BIRTH, *_BIO_FACTS], subject=(p, pron, surname, p), fillers=_BIO_FILLERS, title=p)


_ELECTION = Fact(
    (
        "{P} won the {Y} mayoral election in {C}, defeating {P2} with {PCT} of the vote.",
        "In the {Y} election for mayor of {C}, {P} beat {P2}, taking {PCT} of the vote.",
        "{P2} lost the {Y} mayoral election in {C} to {P}, who received {PCT} of the vote.",
        "With {PCT} of the vote, {P} of the {PARTY} was elected mayor of {C} in {Y}.",
        "The {PARTY} candidate {P} won the {Y} mayoral election in {C}, ahead of {P2}.",
    ),
    (
        ("P", ("Who won the {Y} mayoral election in {C}?", "Who won the election in {C}?",
               "Who became mayor of {C} in {Y}?", "Who was elected mayor of {C}?")),
        ("P2", ("Who lost the {Y} mayoral election in {C}?", "Who did {P} defeat in the election?")),
        ("PCT", ("What share of the vote did {P} receive?", "What percentage of the vote did {P} win?")),
        ("PARTY", ("Which party did {P} represent?", "What party does {P} belong to?")),
    ),
)
_ELECTION_MORE = [
    Fact(("Turnout was {TURN}, the highest since {TY}.", "About {TURN} of registered voters took part."),
         (("TURN", ("What was the turnout in the election?", "How many voters took part?")),)),
    Fact(("{N} votes were cast in total.", "A total of {N} ballots were counted."),
         (("N", ("How many votes were cast?", "How many ballots were counted?")),)),
    Fact(("{S} took office on {D}.", "{S} was sworn in as mayor on {D}."),
         (("D", ("When did {P} take office?", "When was {P} sworn in as mayor?")),)),
    Fact(("{S} replaced {PREV}, who had served as mayor for {YRS} years.",),
         (("PREV", ("Who did {P} replace as mayor?", "Who was the previous mayor of {C}?")),
          ("YRS", ("How long had {PREV} been mayor?", "For how many years had {PREV} served as mayor?")))),
]


def election(pick: Picker) -> Story:
    p, surname, pron = pick.person()
    year = pick.year(1950, 2024)
    pct = pick.rng.randint(40, 71)
    slots = {
        "P": p, "P2": pick.person()[0], "Y": year, "C": pick.city(),
        "PCT": pick.rng.choice((f"{pct} percent", f"{pct}%", f"{pct}.{pick.rng.randint(1, 9)} percent")),
        "PARTY": f"{pick.name('adjectives')} {pick.rng.choice(('Party', 'Alliance', 'Movement'))}",
        "TURN": f"{pick.rng.randint(30, 85)} percent", "TY": pick.year(1900, 1949), "N": pick.number(5000, 900000),
        "D": pick.date(str(int(year) + 1)), "PREV": pick.person()[0], "YRS": str(pick.rng.randint(2, 20)),
    }  # fmt: skip
    return Story(slots, [_ELECTION, *_ELECTION_MORE], subject=(p, pron, surname), title=f"{year} election", boost={"P": 2.0})


_AWARD = Fact(
    (
        "The {Y} {PRIZE} was awarded to {P} for {WORK}.",
        "{P} won the {Y} {PRIZE} for {WORK}.",
        "The jury of the {PRIZE} chose {P}, {ART} {PROF}, as its {Y} winner.",
        "For {WORK}, {P} received the {Y} {PRIZE}, beating {P2} to the award.",
    ),
    (
        ("P", ("Who won the {Y} {PRIZE}?", "Who won the {PRIZE}?", "Who received the {PRIZE} in {Y}?",
               "Who was awarded the {PRIZE}?")),
        ("WORK", ("Why did {P} receive the {PRIZE}?", "What was {P} awarded the {PRIZE} for?")),
        ("P2", ("Who was the runner-up for the {PRIZE}?",)),
    ),
)
_AWARD_MORE = [
    Fact(("{S} received the prize at a ceremony in {C} on {D}.", "The ceremony was held in {C} on {D}."),
         (("C", ("Where was the {PRIZE} ceremony held?",)), ("D", ("When was the {PRIZE} presented?",)))),
    Fact(("The prize is worth {MONEY} dollars.", "It carries a cash award of {MONEY} dollars."),
         (("MONEY", ("How much is the {PRIZE} worth?", "How much money does the {PRIZE} carry?")),)),
    Fact(("The jury was chaired by {CH}.", "{CH} chaired the jury that year."),
         (("CH", ("Who chaired the jury of the {PRIZE}?", "Who led the jury?")),)),
    Fact(("The {PRIZE} has been given every year since {FY}.", "The prize was first awarded in {FY}."),
         (("FY", ("When was the {PRIZE} first awarded?", "Since when has the {PRIZE} been given?")),)),
]


def award(pick: Picker) -> Story:
    p, surname, pron = pick.person()
    slots = {
        "P": p, "P2": pick.person()[0], "Y": pick.year(1950, 2024), "PRIZE": _prize(pick),
        "WORK": pick.rng.choice(("work on glaciers", "a novel about a harbour", "a new kind of battery",
                                 "a bridge design", "a film about miners", "research on sleep", "a violin concerto")),
        "PROF": pick.rng.choice(_PROFESSIONS), "C": pick.city(), "D": pick.date(), "MONEY": pick.number(5000, 1000000),
        "CH": pick.person()[0], "FY": pick.year(1900, 1949),
    }  # fmt: skip
    slots["ART"] = _article(slots["PROF"])
    return Story(slots, [_AWARD, *_AWARD_MORE], subject=(p, pron, surname), title=slots["PRIZE"], boost={"P": 2.0})


BUILDERS = {"person": (person, 2.0), "person2": (person, 0.8), "election": (election, 0.8), "award": (award, 0.8)}
