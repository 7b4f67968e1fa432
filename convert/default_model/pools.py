"""Name pools for the synthetic corpus, each split into disjoint train and held-out parts.

The held-out set must measure reading, not memory: every entity it mentions (people, places, teams,
companies, events, ...) comes from the held-out part of a pool and never occurs in training. Many
names are pseudo-words built from syllables, so the model learns to copy unseen word pieces.
The Super Bowl 50 paragraph is a test of generalisation, so its names are kept out (``FORBIDDEN``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

HELDOUT_EVERY = 4
"""Every 4th entry of each real-name pool (in a fixed shuffled order) is held out."""
PSEUDO_WORDS = 60000
PSEUDO_HELDOUT_EVERY = 10

FORBIDDEN = (
    "Super Bowl", "Super", "Denver", "Bronco", "Carolina", "Panther", "Levi", "Santa Clara", "Clara",
    "San Francisco", "Francisco", "California", "National Football", "American Football", "NFL", "AFC", "NFC",
)  # fmt: skip
"""Strings that never occur in training text: the Super Bowl paragraph's event, teams and places."""

_FIRST = """
Aaron Abigail Adrian Aisha Alba Alejandro Alina Amara Anders Andrea Anika Arjun Astrid Aurelio Beatriz Benedikt
Bianca Bruno Camila Cedric Chiara Christophe Dalia Damian Dario Delphine Dmitri Elena Elias Emeka Emil Esther
Fatima Felix Fiona Florin Gabriel Greta Gustav Hana Hassan Helena Hugo Ibrahim Ida Ignacio Ilse Imani Ines Ingrid
Isaac Ivan Jana Jasper Javier Joanna Jonas Julia Kai Kalinda Kamal Karin Kenji Keziah Klara Lars Leila Leon Liam
Lina Lorenzo Lucia Lukas Magnus Maja Malik Marco Margit Maria Mateo Mei Milan Mina Miriam Nadia Naomi Nikolai Nils
Noor Olga Omar Oskar Paloma Pavel Petra Priya Rafael Rania Rosa Ruben Sabine Salma Samuel Sanjay Sara Sebastian
Selma Simone Sofia Stefan Tariq Teresa Theo Tobias Tomas Ursula Valentin Vera Viktor Wanda Xavier Yara Yusuf Zofia
Agnes Alvaro Amadou Beatrix Bogdan Caspar Dagny Eamon Edda Fabian Folake Goran Halima Henrik Irena Jorge Kaspar
Linnea Mariam Matthias Nkechi Orla Pieter Quentin Ragnar Sunniva Thabo Ulrike Wiktor Yannick Zainab
"""
_SURNAMES = """
Abbott Acosta Adeyemi Albrecht Almeida Andersen Arnaud Bakker Baranov Barros Becker Bellini Bergstrom Blanco Bondarenko
Brennan Brandt Castillo Cervantes Chowdhury Costa Dahl Delgado Dimitrov Dubois Eklund Engel Esposito Falk Farouk
Ferreira Fischer Fontaine Gallagher Garrido Greco Gunnarsson Haas Halvorsen Hartmann Horvath Ibarra Ivanova Jansen
Jovanovic Kaminski Karlsson Keller Kovacs Kowalski Krause Lambert Larsen Lehmann Lindqvist Lombardi Lorenz Mahlangu
Marchetti Mendoza Moreau Moretti Mwangi Nakamura Navarro Nielsen Novak Nowak Nyberg Okafor Olsen Ortega Osei Pereira
Petrov Pham Quinn Rahman Reyes Richter Romano Rossi Sato Schneider Schultz Silva Sokolov Suzuki Tanaka Takahashi
Torres Vasquez Vidal Vogel Wagner Weber Wojcik Yamamoto Zielinski Zimmermann Abara Achterberg Baptiste Carvalho
Dossou Eriksen Fagerlund Gashi Hoffmann Iwu Jablonski Kariuki Laine Mbeki Nordin Oyelaran Pacheco Rasmussen Salonen
Toivonen Uchenna Valdez Wirth Xu Yilmaz Zapata
"""
_CITIES = """
Aberdeen Ashford Bergen Bilbao Bremen Brisbane Calgary Coimbra Cork Dresden Dundee Durban Eindhoven Exeter Galway
Geelong Ghent Gdansk Halifax Hamilton Innsbruck Kassel Kilkenny Kyoto Leipzig Leuven Linz Lyon Malmo Maribor
Marseille Mombasa Montpellier Nantes Nagoya Odense Oporto Osaka Ottawa Oulu Perth Plymouth Poznan Regina Rostock
Salzburg Sapporo Seville Tampere Toulouse Tromso Turku Utrecht Valencia Valparaiso Victoria Winnipeg Wroclaw Zagreb
Zurich Antwerp Arhus Bologna Brno Cardiff Cluj Hobart Kaunas Lille Lugano Mendoza Nairobi Palermo Quebec Rennes
Riga Skopje Tallinn Trieste Uppsala Verona Vilnius
"""
_MULTI_CITIES = [
    "Port Elwyn", "New Harlow", "Calder Bay", "East Marlow", "Fort Kessel", "Lake Orin", "North Tarrow",
    "Saint Aubin", "Glen Avery", "Cape Varro", "West Linden", "Mount Ardel", "Red Hollow", "Stony Ford",
]  # fmt: skip
_MASCOTS = """
Falcons Wolves Hawks Bears Tigers Lions Sharks Rangers Pilots Comets Rockets Eagles Owls Foxes Ravens Stallions
Bulls Rams Vikings Pirates Knights Giants Titans Hornets Wasps Otters Bison Cougars Jaguars Lynx Coyotes Mustangs
Marlins Dolphins Orcas Mariners Sailors Raiders Warriors Spartans Royals Monarchs Senators Generals Admirals Barons
Dragons Griffins Phoenix Thunder Lightning Storm Cyclones Blizzard Avalanche Miners Loggers Builders Bombers Jets
Chargers Racers Express Kings Crusaders Huskies Wildcats Badgers Wolverines Gophers Beavers Herons Pelicans Condors
Scorpions Vipers Cobras Grizzlies Moose Elks Buffaloes Hurricanes Torpedoes Blazers Flyers Stingrays
"""
_ADJECTIVES = """
Granite Northern Southern Atlantic Pacific Golden Iron Harbor Crown Summit Liberty Pioneer Frontier Heritage Royal
Silver Emerald Capital Coastal Continental Highland Lowland Meridian Union Imperial Unity Founders Jubilee Centennial
Sapphire Crimson Azure Ivory Amber Cobalt Copper Diamond Evergreen Horizon Keystone Lakeshore Midland Orchard
Prairie Riverside Sterling Tidewater Valley Western Eastern Central Inland Polar Alpine Desert Island Harvest
"""
_EVENT_KINDS = "Cup Bowl Trophy Shield Classic Championship Final Series Plate Challenge Invitational Open"
_SPORTS = [
    "ice hockey", "rugby", "basketball", "association football", "Canadian football", "Gaelic football",
    "Australian rules football", "handball", "volleyball", "baseball", "water polo", "lacrosse", "hurling",
    "field hockey", "netball", "cricket", "futsal", "rugby league",
]  # fmt: skip
_COMPANY_SUFFIXES = [
    "Systems", "Labs", "Foods", "Motors", "Press", "Energy", "Logistics", "Textiles", "Pharma", "Robotics",
    "Airlines", "Bank", "Media", "Games", "Steel", "Shipping", "Software", "Optics", "Dairy", "Records",
]  # fmt: skip

_ONSETS = "b br c ch d dr f fl g gr h j k kr l m n p pr r s sh st t tr v w z".split() + ["", ""]
_INNER = "b d g k l m n p r s t v z l n r s nd st".split()
_VOWELS = "a e i o u a e o i a ai ea ia ou".split()
_CODAS = ["", "", "n", "r", "l", "s", "m", "nd", "rt", "k", "th", "ll", "sh"]
_AWKWARD = re.compile(r"(.)\1\1|[aeiou]{3}|^[^aeiou]*$")


def _words(block: str) -> list[str]:
    return block.split()


def _pseudo_words(count: int, seed: str, syllables: tuple[int, int] = (2, 3)) -> list[str]:
    """Capitalised pronounceable pseudo-words, e.g. 'Brandor', 'Kelvisa'; fixed by ``seed``."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < count:
        n = rng.randint(*syllables)
        parts = [
            rng.choice(_ONSETS if i == 0 else _INNER) + rng.choice(_VOWELS)
            + (rng.choice(_CODAS) if i == n - 1 or rng.random() < 0.25 else "")
            for i in range(n)
        ]
        word = "".join(parts).capitalize()
        if 4 <= len(word) <= 10 and not _AWKWARD.search(word) and not any(b.lower() in word.lower() for b in FORBIDDEN):
            out[word] = None
    return list(out)


def _split(items: list[str], name: str, every: int = HELDOUT_EVERY) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Deterministic disjoint (train, held-out) parts of one pool."""
    unique = sorted(set(items))
    random.Random(f"split-{name}").shuffle(unique)
    held = tuple(x for i, x in enumerate(unique) if i % every == 0)
    train = tuple(x for i, x in enumerate(unique) if i % every != 0)
    return train, held


def _template_words() -> set[str]:
    """Lower-cased words of every template, so that no pseudo-name is also an ordinary word."""
    from convert.default_model import corpus, topics_people, topics_places, topics_sport

    words: set[str] = set()

    def add(value: object) -> None:
        if isinstance(value, str):
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", value))
        elif isinstance(value, corpus.Fact):
            add(value.sentences)
            add(value.questions)
        elif isinstance(value, (tuple, list, dict)):
            for item in value.values() if isinstance(value, dict) else value:
                add(item)

    for module in (corpus, topics_people, topics_places, topics_sport):
        for value in vars(module).values():
            add(value)
    return words


@dataclass(frozen=True)
class Pools:
    """One side (train or held-out) of every name pool: real names by kind, plus pseudo-words."""

    first: tuple[str, ...]
    surnames: tuple[str, ...]
    cities: tuple[str, ...]
    mascots: tuple[str, ...]
    adjectives: tuple[str, ...]
    pseudo: tuple[str, ...]
    """Tens of thousands of pseudo-words: too many to memorise, so names must be read from context."""
    event_kinds: tuple[str, ...] = tuple(_EVENT_KINDS.split())
    sports: tuple[str, ...] = tuple(_SPORTS)
    company_suffixes: tuple[str, ...] = tuple(_COMPANY_SUFFIXES)

    def names(self) -> set[str]:
        """Every name atom of this side (people, places, teams, ... are built from these)."""
        return {*self.first, *self.surnames, *self.cities, *self.mascots, *self.adjectives, *self.pseudo}


@cache
def pools(split: str) -> Pools:
    """The ``"train"`` or ``"heldout"`` side of every pool."""
    if split not in ("train", "heldout"):
        msg = f"split must be 'train' or 'heldout', not {split!r}"
        raise ValueError(msg)
    parts = {
        "first": _words(_FIRST),
        "surnames": _words(_SURNAMES),
        "cities": _words(_CITIES) + _MULTI_CITIES,
        "mascots": _words(_MASCOTS),
        "adjectives": _words(_ADJECTIVES),
    }
    seen: set[str] = set()
    for key, items in parts.items():  # a name in two pools (Mendoza: surname and city) stays in the first
        parts[key] = [x for x in dict.fromkeys(items) if x not in seen]
        seen.update(parts[key])
    ordinary = _template_words() | {w.lower() for w in seen}
    pseudo = [w for w in _pseudo_words(PSEUDO_WORDS, "pseudo") if w.lower() not in ordinary]
    side = 0 if split == "train" else 1
    return Pools(
        **{key: _split(items, key)[side] for key, items in parts.items()},
        pseudo=_split(pseudo, "pseudo", PSEUDO_HELDOUT_EVERY)[side],
    )


def check_clean(text: str) -> None:
    """Fail loudly if generated training text mentions the Super Bowl paragraph's names."""
    for bad in FORBIDDEN:
        if bad in text:
            msg = f"training text mentions {bad!r}, which must stay unseen: {text[:200]!r}"
            raise ValueError(msg)
