"""Place and organisation stories: cities, companies, festivals and bridges.

They supply where / when / how many questions with competing candidates of the same type (several
numbers, years, cities and people in one paragraph), which is what forces reading the question.
"""

from __future__ import annotations

from convert.default_model.corpus import Fact, Picker, Story

_CITY = Fact(
    (
        "{C} is a city in the {RG} region, on the banks of the {RV} River.",
        "{C}, a city of {POP} people, lies on the {RV} River in {RG}.",
        "The city of {C} stands where the {RV} River meets the sea, in the north of {RG}.",
        "{C} is the largest city in {RG} and sits on the {RV} River.",
    ),
    (
        ("RG", ("In which region is {C}?", "Where is {C} located?", "{C} is the largest city of which region?")),
        ("RV", ("On which river is {C}?", "Which river flows through {C}?", "On the banks of which river is {C}?")),
        ("POP", ("What is the population of {C}?", "How many people live in {C}?")),
    ),
)
_CITY_FACTS = [
    Fact(("It has a population of {POP}.", "About {POP} people live in the city.", "The city has {POP} inhabitants."),
         (("POP", ("What is the population of {C}?", "How many people live in {C}?", "How many inhabitants does {C} have?")),)),
    Fact(("The city was founded in {FY} by {FOUNDER}.", "{FOUNDER} founded the settlement in {FY}.",
          "According to tradition, {FOUNDER} established {C} in {FY}."),
         (("FY", ("When was {C} founded?", "In what year was {C} founded?")),
          ("FOUNDER", ("Who founded {C}?", "Who established {C}?")))),
    Fact(("Its mayor is {MAYOR}.", "{MAYOR} has been mayor of {C} since {MY}.", "The current mayor, {MAYOR}, took office in {MY}."),
         (("MAYOR", ("Who is the mayor of {C}?", "Who governs {C}?")), ("MY", ("Since when has {MAYOR} been mayor?",)))),
    Fact(("{C} is known for its {THING}.", "Visitors come to {C} mainly for its {THING}."),
         (("THING", ("What is {C} known for?", "What do visitors come to {C} for?")),)),
    Fact(("The largest employer in {C} is {CO}, which employs {EMP} people.", "{CO} employs {EMP} people in {C}."),
         (("CO", ("What is the largest employer in {C}?", "Which company is the largest employer in {C}?")),
          ("EMP", ("How many people does {CO} employ?", "How many people work for {CO} in {C}?")))),
    Fact(("{C} is twinned with {TWIN}.", "Since {TWY}, {C} has been twinned with {TWIN}."),
         (("TWIN", ("Which city is {C} twinned with?", "What is {C}'s twin city?")),
          ("TWY", ("Since when has {C} been twinned with {TWIN}?",)))),
    Fact(("{C} lies {KM} kilometres north of {C2}.", "The distance from {C} to {C2} is {KM} kilometres."),
         (("KM", ("How far is {C} from {C2}?", "How many kilometres is it from {C} to {C2}?")),
          ("C2", ("Which city lies {KM} kilometres south of {C}?",)))),
]
_THINGS = ("old harbour", "cathedral", "wine festival", "botanical garden", "university", "glass industry", "bridges")


def city(pick: Picker) -> Story:
    c = pick.city()
    slots = {
        "C": c, "RG": pick.name("regions"), "RV": pick.name("rivers"),
        "POP": pick.number(8000, 2500000), "FY": pick.year(800, 1900), "FOUNDER": pick.person()[0],
        "MAYOR": pick.person()[0], "MY": pick.year(1990, 2023), "THING": pick.rng.choice(_THINGS),
        "CO": pick.name("companies"), "EMP": pick.number(300, 20000), "TWIN": pick.city(),
        "TWY": pick.year(1950, 2010), "KM": str(pick.rng.randint(12, 640)), "C2": pick.city(),
    }  # fmt: skip
    return Story(slots, [_CITY, *_CITY_FACTS], title=c)


_COMPANY = Fact(
    (
        "{CO} is a {IND} company headquartered in {HQ}.",
        "Headquartered in {HQ}, {CO} makes {PRODS}.",
        "{CO}, a maker of {PRODS}, has its headquarters in {HQ}.",
        "{CO} is a {HQ}-based {IND} company.",
    ),
    (
        ("HQ", ("Where is {CO} headquartered?", "Where are {CO}'s headquarters?", "In which city is {CO} based?")),
        ("PRODS", ("What does {CO} make?", "What products does {CO} make?")),
        ("IND", ("What kind of company is {CO}?", "In which industry does {CO} work?")),
    ),
)
_COMPANY_FACTS = [
    Fact(("It was founded in {FY} by {F1} and {F2}.", "{F1} founded the company in {FY}.",
          "The company was started by {F1} in a garage in {FC} in {FY}."),
         (("FY", ("When was {CO} founded?", "In what year was {CO} founded?")),
          ("F1", ("Who founded {CO}?", "Who started {CO}?")), ("F2", ("Who co-founded {CO} with {F1}?",)),
          ("FC", ("Where was {CO} started?",)))),
    Fact(("As of {Y}, {CO} employed {EMP} people.", "The company has {EMP} employees.", "{CO} has a staff of {EMP}."),
         (("EMP", ("How many people does {CO} employ?", "How many employees does {CO} have?")),)),
    Fact(("In {AY}, {CO} was acquired by {ACQ} for {PRICE}.", "{ACQ} bought the company in {AY} for {PRICE}.",
          "{ACQ} paid {PRICE} for {CO} in {AY}."),
         (("ACQ", ("Who acquired {CO}?", "Which company bought {CO}?")),
          ("PRICE", ("How much did {ACQ} pay for {CO}?", "For how much was {CO} sold?")),
          ("AY", ("When was {CO} acquired?", "In what year did {ACQ} buy {CO}?")))),
    Fact(("Its chief executive is {CEO}.", "{CEO} has led {CO} as chief executive since {CY}."),
         (("CEO", ("Who is the chief executive of {CO}?", "Who leads {CO}?")),
          ("CY", ("Since when has {CEO} led {CO}?",)))),
    Fact(("Its best-known product is the {PROD}.", "The {PROD}, launched in {PY}, is its most famous product."),
         (("PROD", ("What is {CO}'s best-known product?", "What is the most famous product of {CO}?")),
          ("PY", ("When was the {PROD} launched?",)))),
    Fact(("Revenue in {Y} was {REV}.", "In {Y}, the company reported sales of {REV}."),
         (("REV", ("What was {CO}'s revenue in {Y}?", "How much did {CO} sell in {Y}?")),)),
]
_COMPANY_FILLERS = ("The company's shares are traded in {HQ}.", "It has offices in {N} countries.")


def company(pick: Picker) -> Story:
    co = pick.name("companies")
    ind, prods = pick.rng.choice((
        ("software", "accounting programs"), ("shipping", "container ships"), ("food", "frozen meals"),
        ("energy", "wind turbines"), ("textile", "outdoor clothing"), ("robotics", "warehouse robots"),
        ("pharmaceutical", "vaccines"), ("publishing", "school books"), ("toy", "wooden toys"),
    ))  # fmt: skip
    founded = int(pick.year(1850, 2010))
    money = pick.rng.choice(("{} million dollars", "${} million", "${}.{} billion", "{} million euros"))
    slots = {
        "CO": co, "IND": ind, "PRODS": prods, "HQ": pick.city(), "FY": str(founded), "F1": pick.person()[0],
        "F2": pick.person()[0], "FC": pick.city(), "Y": str(founded + pick.rng.randint(5, 60)),
        "EMP": pick.number(40, 90000), "AY": str(founded + pick.rng.randint(5, 60)),
        "ACQ": pick.name("companies"),
        "PRICE": money.format(pick.rng.randint(2, 900), pick.rng.randint(1, 9)), "CEO": pick.person()[0],
        "CY": pick.year(1995, 2023), "PROD": f"{pick.word()} {pick.rng.randint(2, 900)}", "PY": pick.year(1980, 2023),
        "REV": money.format(pick.rng.randint(2, 900), pick.rng.randint(1, 9)), "N": str(pick.rng.randint(3, 60)),
    }  # fmt: skip
    return Story(slots, [_COMPANY, *_COMPANY_FACTS], fillers=_COMPANY_FILLERS, title=co)


_FESTIVAL = Fact(
    (
        "The {FEST} is held every {MONTH} in {C}.",
        "Every {MONTH}, {C} hosts the {FEST}.",
        "The {FEST}, held in {C} each {MONTH}, is one of the oldest events of its kind.",
    ),
    (
        ("MONTH", ("When is the {FEST} held?", "In which month is the {FEST} held?")),
        ("C", ("Where is the {FEST} held?", "Which city hosts the {FEST}?")),
    ),
)
_FESTIVAL_FACTS = [
    Fact(("It was first held in {FY}.", "The first edition took place in {FY}.", "The festival dates back to {FY}."),
         (("FY", ("When was the first {FEST} held?", "When did the {FEST} start?")),)),
    Fact(("It was founded by {P}.", "{P} founded the festival.", "The festival was the idea of {P}."),
         (("P", ("Who founded the {FEST}?", "Whose idea was the {FEST}?")),)),
    Fact(("This year it attracted {N} visitors.", "In {Y}, {N} people attended.", "Attendance reached {N} in {Y}."),
         (("N", ("How many visitors did the {FEST} attract?", "How many people attended the {FEST}?")),)),
    Fact(("The main prize went to {P2} for the film \"{TITLE}\".", "{P2} won the main prize with \"{TITLE}\"."),
         (("P2", ("Who won the main prize at the {FEST}?", "Who won the {FEST}'s main prize?")),
          ("TITLE", ("Which film won the main prize?", "What was the winning film at the {FEST}?")))),
    Fact(("The festival is organised by {ORG}.", "{ORG} organises the event."),
         (("ORG", ("Who organises the {FEST}?", "Which organisation runs the {FEST}?")),)),
    Fact(("Tickets cost {PRICE} dollars a day.",), (("PRICE", ("How much does a ticket to the {FEST} cost?",)),)),
]


def festival(pick: Picker) -> Story:
    kind = pick.rng.choice(("Film Festival", "Jazz Festival", "Book Fair", "Folk Festival", "Light Festival"))
    fest = f"{pick.rng.choice((pick.city(), pick.name('adjectives')))} {kind}"
    slots = {
        "FEST": fest, "MONTH": pick.rng.choice(("January", "March", "May", "June", "August", "October")),
        "C": pick.city(), "FY": pick.year(1900, 2015), "P": pick.person()[0], "N": pick.number(800, 400000),
        "Y": pick.year(2016, 2024), "P2": pick.person()[0], "TITLE": f"{pick.word()} {pick.rng.choice(('Nights', 'River', 'Summer'))}",
        "ORG": f"the {pick.name('adjectives')} Foundation", "PRICE": str(pick.rng.randint(5, 90)),
    }  # fmt: skip
    return Story(slots, [_FESTIVAL, *_FESTIVAL_FACTS], title=fest)


_BRIDGE = Fact(
    (
        "The {BR} over the {RV} River was designed by the architect {ARCH}.",
        "{ARCH} designed the {BR}, which crosses the {RV} River at {C}.",
        "Spanning the {RV} River, the {BR} is the work of the engineer {ARCH}.",
    ),
    (
        ("ARCH", ("Who designed the {BR}?", "Who was the architect of the {BR}?")),
        ("RV", ("Which river does the {BR} cross?", "What river does the {BR} span?")),
        ("C", ("Where is the {BR}?",)),
    ),
)
_BRIDGE_FACTS = [
    Fact(("Construction began in {BY} and the bridge opened on {D}.", "It opened to traffic on {D}."),
         (("D", ("When did the {BR} open?", "When was the {BR} opened?")), ("BY", ("When did construction of the {BR} begin?",)))),
    Fact(("It cost {COST} to build.", "The total cost was {COST}."), (("COST", ("How much did the {BR} cost?",)),)),
    Fact(("The bridge is {LEN} metres long.", "With a length of {LEN} metres, it was the longest in the region."),
         (("LEN", ("How long is the {BR}?", "What is the length of the {BR}?")),)),
    Fact(("It was built by {CO}.", "{CO} built the bridge with {W} workers."),
         (("CO", ("Which company built the {BR}?", "Who built the {BR}?")), ("W", ("How many workers built the {BR}?",)))),
]


def bridge(pick: Picker) -> Story:
    br = f"{pick.rng.choice((pick.name('surnames'), pick.name('adjectives')))} {pick.rng.choice(('Bridge', 'Viaduct'))}"
    year = pick.year(1850, 2015)
    slots = {
        "BR": br, "RV": pick.name("rivers"), "ARCH": pick.person()[0], "C": pick.city(), "BY": year,
        "D": pick.date(str(int(year) + pick.rng.randint(2, 6))), "COST": f"{pick.rng.randint(2, 900)} million dollars",
        "LEN": pick.number(120, 4000), "CO": pick.name("companies"), "W": pick.number(200, 5000),
    }  # fmt: skip
    return Story(slots, [_BRIDGE, *_BRIDGE_FACTS], title=br)


BUILDERS = {"city": (city, 1.0), "company": (company, 1.0), "festival": (festival, 0.8), "bridge": (bridge, 0.6)}
