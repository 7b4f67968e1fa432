"""Sport stories: championship games (news style), individual finals, and races.

Championship games get the most phrasings because "Who won the <event>?" over a news paragraph is
the default model's showcase: winners and losers appear as subject or object, active or passive, with
conference titles around the team names, and distractor games with their own winners.
"""

from __future__ import annotations

from convert.default_model.corpus import Fact, Picker, Story
from convert.default_model.pools import FORBIDDEN

_SPORT_NOUN = {
    "ice hockey": "Hockey", "rugby": "Rugby", "basketball": "Basketball", "association football": "Soccer",
    "Canadian football": "Football", "Gaelic football": "Football", "Australian rules football": "Football",
    "handball": "Handball", "volleyball": "Volleyball", "baseball": "Baseball", "water polo": "Water Polo",
    "lacrosse": "Lacrosse", "hurling": "Hurling", "field hockey": "Hockey", "netball": "Netball",
    "cricket": "Cricket", "futsal": "Futsal", "rugby league": "Rugby",
}  # fmt: skip
_BODIES = ("League", "Association", "Federation", "Union")
_CONF_KINDS = ("Conference", "Division", "League")


def _abbrev(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[0].isupper())


def _org(pick: Picker, noun: str, kinds: tuple[str, ...]) -> tuple[str, str]:
    """A named body with its initials, e.g. ('Granite Hockey League', 'GHL'), never a forbidden one."""
    while True:
        name = f"{pick.name('adjectives')} {noun} {pick.rng.choice(kinds)}"
        short = _abbrev(name)
        if not any(bad in name or bad == short for bad in FORBIDDEN):
            return name, short


def _score(pick: Picker, hi: int) -> tuple[str, int, int]:
    a = pick.rng.randint(1, hi)
    b = pick.rng.randint(0, a - 1)
    form = pick.rng.choices(("{}–{}", "{}-{}", "{} to {}"), (0.6, 0.25, 0.15))[0]
    return form.format(a, b), a, b


def _event_base(pick: Picker) -> str:
    r = pick.rng.random()
    kind = pick.rng.choice(pick.side.event_kinds)
    if r < 0.6:
        return f"{pick.name('adjectives')} {kind}"
    if r < 0.8:
        return f"{pick.city()} {kind}"
    return f"{pick.name('surnames')} {kind}"


_RESULT = Fact(
    (
        "The {C1} ({C1A}) champion {W} defeated the {C2} ({C2A}) champion {L} {SC} to earn their {ORD} {EB} title.",
        "The {C1} champion {W} defeated the {C2} champion {L} {SC} to win the {EB}.",
        "The {W} beat the {L} {SC} to win the {EB}.",
        "The {W} beat the {L} {SC} and claimed their {ORD} title.",
        "The {W} won the game {SC} against the {L}.",
        "The {L} lost {SC} to the {W}, who took their {ORD} {EB} title.",
        "The {L} were beaten {SC} by the {W}.",
        "In front of a crowd of {N}, the {W} defeated the {L} {SC}.",
        "The {W}, champions of the {C1}, overcame the {L} of the {C2} {SC}.",
        "It was won by the {W}, who beat the {L} {SC}.",
        "The {W} claimed the title with a {SC} victory over the {L}.",
        "The {W} won {SC}, handing the {L} their first defeat of the season.",
        "The {L} were defeated {SC} by the {W}, the {C1} champion.",
        "After trailing at half-time, the {W} came back to beat the {L} {SC}.",
        "The {W} took the {EB} with a {SC} win over the {L}.",
        "The {W} were crowned champions after a {SC} win against the {L}.",
        "The {W} edged the {L} {SC} in a close game.",
        "The {L}, the {C2} ({C2A}) champion, fell {SC} to the {C1} ({C1A}) champion {W}.",
        "{W} won the {EB} for the {ORD} time, defeating {L} {SC}.",
        "Playing in their {ORD} final, the {W} beat the {L} {SC}.",
        "The {C2} champion {L} could not stop the {W}, who won {SC}.",
        "The {W} ({WR}) defeated the {L} ({LR}) {SC} to become champions of the {LG}.",
    ),
    (
        ("W", (
            "Who won the {EB}?", "Who won {E}?", "Which team won the {EB}?", "Which team won {E}?",
            "Who was the winner of the {EB}?", "Who won the {Y} {EB}?", "Which team became {LG} champion?",
            "Who won the game?", "Who beat the {L}?", "Who did the {L} lose to?", "Who were the {EB} champions?",
            "Which team won the {LG} title?", "Which team was victorious in {E}?", "Who took the {EB} title?",
            "Who won the championship?", "Which club won the {EB}?", "Who claimed the {EB}?",
        )),
        ("L", (
            "Who lost the {EB}?", "Which team lost {E}?", "Who did the {W} beat?", "Who did the {W} defeat in the {EB}?",
            "Which team was the runner-up in the {EB}?", "Who was the losing team in {E}?",
            "Who did the {W} play in the {EB}?", "Which team was defeated in {E}?", "Who finished second in the {EB}?",
        )),
        ("SC", (
            "What was the final score of the {EB}?", "What was the score of {E}?", "What was the final score?",
            "By what score did the {W} win?", "What was the score of the game?",
        )),
        ("C1", ("Which conference did the {W} represent?", "The {W} were champions of which conference?")),
        ("C2", ("Which conference did the {L} represent?", "The {L} had won which conference?")),
        ("N", ("How many people watched the game?", "How large was the crowd?")),
        ("WR", ("What was the {W}'s record?", "What record did the {W} have?")),
    ),
)

_VENUE = Fact(
    (
        "The game was played on {D} at {V} in {VC}.",
        "{E} was played on {D} at {V} in {VC}.",
        "It took place at {V}, {VC}, on {D}.",
        "{V} in {VC} hosted the game on {D}.",
        "The game was held at {V} in {VC} on {D}.",
        "On {D}, {V} in {VC} hosted {E}.",
        "The final was staged in {VC} at {V} on {D}.",
        "The game was played at {V} in the {VC} area on {D}.",
    ),
    (
        ("D", ("When was {E} played?", "On what date was the {EB} played?", "When did {E} take place?",
               "What day was the game played?", "When was the {EB} held?")),
        ("V", ("Where was {E} played?", "At which stadium was the {EB} held?", "What venue hosted {E}?",
               "In which stadium was the game played?", "Where was the {EB} played?")),
        ("VC", ("In which city was {E} played?", "Which city hosted the {EB}?", "In what city was the game held?")),
    ),
)

_CROWD = Fact(
    (
        "A crowd of {N} attended the game.", "{N} spectators watched the game at {V}.",
        "The game drew a crowd of {N}.", "Attendance was {N}.", "Some {N} fans filled the stadium.",
    ),
    (("N", ("How many people attended {E}?", "How many spectators watched the {EB}?",
            "What was the attendance at the {EB}?", "How large was the crowd at {E}?")),),
)

_MVP = Fact(
    (
        "{MVP} of the {W} was named most valuable player.",
        "{MVP}, who scored {PTS} points, was named the game's most valuable player.",
        "The most valuable player award went to {MVP}, who scored {PTS} points.",
        "{L} captain {CAP} scored {PTS} points in a losing effort, while {MVP} was named most valuable player.",
    ),
    (
        ("MVP", ("Who was named most valuable player of {E}?", "Who was the most valuable player of the {EB}?",
                 "Who won the most valuable player award?", "Who was the game's best player?")),
        ("PTS", ("How many points did {MVP} score?",)),
        ("CAP", ("Who captained the {L}?", "Who was the captain of the {L}?")),
    ),
)

_COACH = Fact(
    (
        "The {W} were coached by {CO}.", "{CO}, the head coach of the {W}, won the title in his first season.",
        "The {L}'s coach, {CO2}, resigned two days after the game.",
    ),
    (
        ("CO", ("Who coached the {W}?", "Who was the head coach of the {W}?")),
        ("CO2", ("Who coached the {L}?", "Which coach resigned after the {EB}?")),
    ),
)

_PATH = Fact(
    (
        "To reach the final, the {W} had beaten the {X} {SC2} in the {C1} championship game.",
        "The {L} had advanced by defeating the {X2} {SC3} in the semifinal.",
        "Earlier that season, the {OW} had won the {OEB}, beating the {X} {SC2}.",
        "The previous year's {EB} had been won by the {PW}.",
        "In the other semifinal, the {X2} lost {SC3} to the {L}.",
    ),
    (
        ("X", ("Who did the {W} beat to reach the final?", "Which team lost the {C1} championship game?",
               "Who did the {OW} beat in the {OEB}?")),
        ("W", ("Who won the {C1} championship game?",)),
        ("X2", ("Who did the {L} defeat to reach the {EB}?", "Which team lost in the semifinal to the {L}?")),
        ("OW", ("Who won the {OEB}?", "Which team won the {OEB}?")),
        ("PW", ("Who won the previous {EB}?", "Who had won the {EB} the year before?")),
    ),
)

_SHOW = Fact(
    (
        "The half-time show was headlined by the singer {SING}.",
        "Television coverage reached an estimated {TV} viewers.",
        "As this was the {NTH} {EB}, the league celebrated the \"{ANN} anniversary\" with special events.",
    ),
    (
        ("SING", ("Who performed at half-time?", "Who headlined the half-time show of {E}?")),
        ("TV", ("How many people watched {E} on television?", "How many viewers did the broadcast reach?")),
        ("ANN", ("Which anniversary did the league celebrate?",)),
    ),
)

_GAME_LEADS = Fact(
    (
        "{E} was a {SP} game to determine the champion of the {LG} ({LGA}) for the {Y} season.",
        "{E} was the championship game of the {Y} {LG} season.",
        "{E} decided the {Y} champion of the {LG}.",
        "{E} was played to decide the winner of the {Y} season of the {LG} ({LGA}).",
        "The {Y} season of the {LG} ended with {E}, its annual championship game.",
        "{E} was the final of the {LG}'s {Y} {SP} season.",
        "The {W} won {E}, beating the {L} {SC} at {V} on {D}.",
        "{E}, the {SP} final of the {LG}, was played on {D} in {VC}.",
    ),
    (*_RESULT.questions, *_VENUE.questions,
     ("LG", ("Which league's champion did {E} determine?", "What league was {E} played in?",
             "{E} decided the champion of which league?")),
     ("Y", ("Which season did {E} conclude?", "{E} determined the champion for which season?")),
     ("SP", ("What sport was played in {E}?", "What kind of game was {E}?"))),
)

_GAME_FILLERS = (
    "Tickets for the game sold out within {H} hours.",
    "Both teams had finished the regular season with winning records.",
    "The league temporarily changed its trophy design so that the logo could show the number {NUM}.",
    "Rain fell for most of the second half, and the pitch was heavy.",
    "It was the first final between the two teams since {PY}.",
)


def game(pick: Picker) -> Story:
    sport = pick.rng.choice(pick.side.sports)
    noun = _SPORT_NOUN[sport]
    league, league_short = _org(pick, noun, _BODIES)
    (c1, c1a), (c2, c2a) = _org(pick, noun, _CONF_KINDS), _org(pick, noun, _CONF_KINDS)
    (w, wm), (lo, lm) = pick.team(), pick.team()
    eb = _event_base(pick)
    year = pick.year(1960, 2023)
    nth = pick.rng.randint(2, 75)
    e = pick.rng.choice((f"{eb} {nth}", f"the {year} {eb}", f"the {pick.ordinal(nth)} {eb}", f"{eb} {nth}"))
    sc, a, _ = _score(pick, 45 if "football" in sport or sport in ("basketball", "rugby") else 9)
    surname = pick.name("surnames")
    venue = pick.rng.choice((f"{surname} Stadium", f"{pick.word()} Arena", f"{surname} Park", f"{pick.word()} Field"))
    wins = pick.rng.randint(8, 16)
    slots = {
        "E": e, "EB": eb, "Y": year, "SP": sport, "LG": league, "LGA": league_short, "C1": c1, "C1A": c1a,
        "C2": c2, "C2A": c2a, "W": pick.rng.choice((w, w, wm)), "L": pick.rng.choice((lo, lo, lm)), "SC": sc,
        "ORD": pick.ordinal(pick.rng.randint(1, 6)), "N": pick.number(3000, 95000), "V": venue,
        "VC": pick.city(), "D": pick.date(str(int(year) + pick.rng.randint(0, 1))), "MVP": pick.person()[0],
        "CAP": pick.person()[0], "PTS": str(pick.rng.randint(2, max(3, a))), "CO": pick.person()[0],
        "CO2": pick.person()[0], "X": pick.team()[0], "X2": pick.team()[0], "SC2": _score(pick, 40)[0],
        "SC3": _score(pick, 40)[0], "OW": pick.team()[0], "OEB": _event_base(pick), "PW": pick.team()[0],
        "SING": pick.person()[0], "TV": f"{pick.rng.randint(2, 120)} million", "NTH": pick.ordinal(nth),
        "ANN": pick.rng.choice(("golden", "silver", "diamond", "ruby", "pearl")), "H": str(pick.rng.randint(2, 72)),
        "NUM": str(nth), "PY": pick.year(1900, 1959), "WR": f"{wins}–{16 - wins}", "LR": f"{wins - 1}–{17 - wins}",
    }  # fmt: skip
    facts = [_GAME_LEADS, _RESULT, _VENUE, _CROWD, _MVP, _COACH, _PATH, _SHOW]
    return Story(slots, facts, fillers=_GAME_FILLERS, title=eb, boost={"W": 4.0, "L": 1.5})


_MATCH = Fact(
    (
        "{P} defeated {P2} {SC} in the final of the {EV} in {C}.",
        "{P2} lost the final of the {EV} to {P}, {SC}.",
        "In the {Y} {EV} final, {P} beat {P2} {SC}.",
        "{P} won the {EV}, beating {P2} {SC} in the final in {C}.",
        "The {Y} {EV} was won by {P}, who defeated {P2} in {C}.",
    ),
    (
        ("P", ("Who won the {EV}?", "Who won the {Y} {EV}?", "Who was the winner of the {EV} final?",
               "Who beat {P2} in the final?")),
        ("P2", ("Who lost the final of the {EV}?", "Who was the runner-up at the {EV}?", "Who did {P} beat in the final?")),
        ("SC", ("What was the score of the {EV} final?", "By what score did {P} win the final?")),
        ("C", ("Where was the {EV} held?", "In which city was the {EV} final played?")),
    ),
)
_MATCH_MORE = Fact(
    (
        "{S} was winning the event for the {ORD} time.", "{S} had lost in the first round the previous year.",
        "The final lasted {MIN} minutes.", "The prize money for the winner was {MONEY} dollars.",
    ),
    (
        ("MIN", ("How long did the final last?",)),
        ("MONEY", ("How much prize money did the winner receive?", "How much money did {P} win?")),
    ),
)


def match(pick: Picker) -> Story:
    """Individual sports (tennis, chess, squash ...): "Who won" answered by a person."""
    (p, surname, pron), p2 = pick.person(), pick.person()[0]
    kind = pick.rng.choice(("Open", "Masters", "Championship", "Invitational", "Cup"))
    sport = pick.rng.choice(("Tennis", "Chess", "Squash", "Badminton", "Snooker", "Darts", "Golf"))
    ev = f"{pick.rng.choice((pick.city(), pick.name('adjectives')))} {sport} {kind}"
    sets = ", ".join(f"{a}–{b}" for a, b in ((6, pick.rng.randint(0, 4)), (pick.rng.randint(6, 7), 5)))
    slots = {
        "P": p, "P2": p2, "EV": ev, "C": pick.city(), "Y": pick.year(1970, 2024), "SC": sets,
        "ORD": pick.ordinal(pick.rng.randint(1, 5)), "MIN": str(pick.rng.randint(55, 240)),
        "MONEY": pick.number(20000, 900000),
    }  # fmt: skip
    return Story(slots, [_MATCH, _MATCH_MORE], subject=(p, pron, surname), title=ev, boost={"P": 2.0})


_RACE = Fact(
    (
        "{P} won the {EV} in a time of {T}, ahead of {P2} and {P3}.",
        "The {Y} {EV} was won by {P} in {T}; {P2} finished second.",
        "{P2} was second and {P3} third, but {P} won the {EV} in {T}.",
        "{P} crossed the line first in the {EV}, finishing in {T}.",
    ),
    (
        ("P", ("Who won the {EV}?", "Who won the {Y} {EV}?", "Who finished first in the {EV}?")),
        ("P2", ("Who finished second in the {EV}?", "Who came second?")),
        ("P3", ("Who finished third in the {EV}?", "Who came third?")),
        ("T", ("What was the winning time?", "How fast did {P} run the {EV}?", "In what time did {P} win?")),
    ),
)
_RACE_MORE = Fact(
    ("More than {N} runners started the race.", "The race started at {HOUR} in the morning in {C}."),
    (("N", ("How many runners started the {EV}?", "How many people ran the race?")),
     ("C", ("Where did the {EV} start?",))),
)


def race(pick: Picker) -> Story:
    city = pick.city()
    ev = f"{city} {pick.rng.choice(('Marathon', 'Half Marathon', 'Ten Miles', 'Road Race', 'Cycling Classic'))}"
    time = f"{pick.rng.randint(1, 2)}:{pick.rng.randint(0, 59):02d}:{pick.rng.randint(0, 59):02d}"
    slots = {
        "EV": ev, "P": pick.person()[0], "P2": pick.person()[0], "P3": pick.person()[0], "T": time,
        "Y": pick.year(1970, 2024), "N": pick.number(500, 40000), "C": city, "HOUR": str(pick.rng.randint(6, 10)),
    }  # fmt: skip
    return Story(slots, [_RACE, _RACE_MORE], title=ev)


BUILDERS = {"game": (game, 3.0), "match": (match, 0.7), "race": (race, 0.6)}
