"""Write ``rows.jsonl``: the held-out evaluation set for the identifier scrubber.

Run ``python -m benchmarks.privacy_eval.generate`` (reads ``../shared/data``, or
``$CARDIFF_DATA``). Deterministic: the same seed and data give the same file. The lists and
templates here are written by hand, independently of the scrubber's patterns; place words
come mostly from the real FSA venue files and police.uk street names (OGL v3).

Each row is built from parts: plain text, ``Id(kind, value)`` (a planted identifier) and
``Keep(value)`` (a word that must survive verbatim), so the annotations are exact
substrings. A row is rejected (and drawn again) when its annotations could be confused by
the scoring: a must-keep word that also occurs inside an identifier, a name or house number
that also occurs elsewhere in the text, or an NHS number's or phone's digits (any seven in a
row) found outside its span.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(
    os.environ.get("CARDIFF_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data")
)
OUT = HERE / "rows.jsonl"
SEED = 19_590_101

KINDS = ("nhs_number", "phone", "email", "postcode", "date_of_birth", "name", "house_number")


@dataclass(frozen=True)
class Id:
    kind: str
    value: str


@dataclass(frozen=True)
class Keep:
    value: str


Part = str | Id | Keep


def _words(text: str) -> list[str]:
    """A word list written compactly: items separated by "|" (spaces kept)."""
    return text.split("|")


# --------------------------------------------------------------------------- scoring helpers
# (imported by the benchmark too, so that the generator's checks and the scoring agree)

_SEP = r"[\s.\-/()+]*"


def bounded(text: str, value: str, *, case: bool = True) -> list[int]:
    """Start offsets of ``value`` in ``text`` not inside a longer alphanumeric run."""
    flags = 0 if case else re.IGNORECASE
    pattern = r"(?<![0-9A-Za-zÀ-ÿŵŷŴŶ])" + re.escape(value) + r"(?![0-9A-Za-zÀ-ÿŵŷŴŶ])"
    return [m.start() for m in re.finditer(pattern, text, flags)]


def squash(text: str) -> str:
    """Lower case with runs of white space as one space."""
    return re.sub(r"\s+", " ", text).strip().lower()


def digit_runs(text: str) -> list[str]:
    """Digit sequences, reading through the separators people type inside numbers."""
    runs = re.findall(r"\d(?:" + _SEP + r"\d)*", text)
    return [re.sub(r"\D", "", run) for run in runs]


def digits_survive(text: str, value: str, window: int = 7) -> bool:
    """True when any ``window`` consecutive digits of ``value`` are in one digit run."""
    digits = re.sub(r"\D", "", value)
    runs = digit_runs(text)
    windows = {digits[k : k + window] for k in range(max(1, len(digits) - window + 1))}
    return any(w in run for w in windows for run in runs)


def postcode_survives(text: str, value: str) -> bool:
    """True when the full postcode is in ``text`` in any spacing, case or hyphenation."""
    chars = re.sub(r"[^0-9A-Za-z]", "", value)
    pattern = r"[\s\-.]*".join(re.escape(c) for c in chars) + r"(?![A-Za-z])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def leaked(kind: str, value: str, text: str) -> bool:
    """Whether the planted identifier ``value`` survives in scrubbed ``text``."""
    if kind in ("nhs_number", "phone"):
        return digits_survive(text, value)
    if kind == "postcode":
        return postcode_survives(text, value)
    if kind in ("name", "house_number"):
        return bool(bounded(squash(text), squash(value), case=False))
    return squash(value) in squash(text)


NAME_PARTICLES = {"ap", "ab", "ferch", "mr", "mrs", "miss", "ms", "and", "&"}


def name_parts(value: str) -> list[str]:
    """The words of a name that identify (particles and titles dropped)."""
    words = [w.strip(".,()'\u2019") for w in value.split()]
    return [w for w in words if len(w) > 1 and w.lower() not in NAME_PARTICLES]


# --------------------------------------------------------------------------- place words


def _pubs(path: Path) -> list[tuple[str, str]]:
    """(business name, street) for every pub/bar/nightclub in one FSA file."""
    out = []
    for e in ET.parse(path).iter("EstablishmentDetail"):
        if e.findtext("BusinessTypeID") != "7843":
            continue
        name = e.findtext("BusinessName") or ""
        name = re.sub(r"\s*\(.*?\)|\s+(Ltd\.?|Limited|Co Ltd)$", "", name).strip()
        lines = [e.findtext(f"AddressLine{k}") or "" for k in range(1, 5)]
        street = ""
        for line in lines:
            m = re.search(
                r"([A-Z][a-z]+(?: [A-Z][a-z]+)* (?:Street|Road|Lane|Place|Way|Avenue|Parade|"
                r"Terrace|Square|Hill|Row|Walk|Drive|Close))",
                line,
            )
            if m:
                street = m.group(1)
                break
        if name:
            out.append((name, street))
    return out


def _streets() -> list[str]:
    """Street names from police.uk ``Location`` ("On or near X"), casing repaired."""
    names: set[str] = set()
    for path in sorted((DATA / "police_uk").glob("*.csv")) + sorted(
        (DATA / "newport").glob("*.csv")
    ):
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                loc = row["Location"]
                if loc.startswith("On or near "):
                    names.add(loc[len("On or near ") :])
    fixed = set()
    for name in names:
        name = name.replace("'S ", "'s ").replace(" Vii", " VII").replace(" Iii", " III")
        if re.search(r"\d", name) or len(name) > 28:
            continue
        fixed.add(name)
    return sorted(fixed)


STREET_SUFFIX = re.compile(
    r" (Street|Road|Lane|Avenue|Close|Way|Place|Terrace|Drive|Crescent|Court|Gardens|Hill|"
    r"Row|Walk|Parade|View|Square)$"
)
WELSH_PREFIX = re.compile(r"^(Heol|Ffordd|Clos|Lon|Maes|Stryd|Rhodfa|Llwyn|Cwrt|Rhes|Llys)\b")
PERSON_WORDS = (
    "Charles|Churchill|Mill|Mary|James|John|George|William|Victoria|Albert|Edward|Thomas|"
    "David|Elizabeth|Richard|Henry|Arthur|Frederick|Howard|Stanley|Dylan|Owen|Morgan|Evans|"
    "Jones|Davies|Lewis|Williams|Harris|Roberts|Hughes|Ann|Jane|Margaret|Catherine|Caroline|"
    "Neville|Windsor|Nelson|Wellington|Lloyd|Howell|Glyn|Dewi|Dafydd|Siarl|Shon|Ifan|Padrig"
)
PERSON_STREET = re.compile(r"\b(" + PERSON_WORDS + r")\b")

HAND_WELSH_STREETS = _words(
    "Heol y Nant|Clos Hafod|Lôn y Dail|Ffordd y Brenin|Maes y Coed|Stryd Fawr|"
    "Rhodfa'r Gorllewin|Llwyn Onn|Lôn Ganol|Heol Hir|Clos Cae Nant|Ffordd Las|"
    "Maes yr Haf|Heol Eglwys|Cwrt y Felin|Heol y Frenhines|Stryd y Castell|"
    "Lôn Isaf|Rhodfa Glan y Môr|Llwyn y Pîn"
)

HAND_VENUES = _words(
    "Prince of Wales pub|Miss Millies|Wetherspoons|Clwb Ifor Bach|Owain Glyndwr|"
    "The Philharmonic|Walkabout|Tiger Tiger|O'Neills|Pryzm|Revolution|Coyote Ugly|"
    "Yates|Live Lounge|Mocka Lounge|Buffalo Bar|Jacs|Retro|Gatsby|Kiwis|Popworld|"
    "Brewdog|Lloyds Bar|Cuba|The Cottage|Elevens|Wham Bar|Gassy Jacks|Henry's|"
    "Ivor Davies|Eli Jenkins|The Aneurin Bevan|The Ernest Willows|The Andrew Buchan|"
    "Godfrey Morgan|John Wallace Linton|Dylan Thomas|Mary Dillwyn|Maggie Dicks|"
    "Jack Murphys|The Lewis Jones Bar|The Reverend James|Admiral Napier|"
    "Master Gunner|The Goat Major|Lewis Arms|Morris Arms|Hogans|Marys|Kongs"
)

STATIONS = _words(
    "Cardiff Central|Queen Street station|Cathays station|Newport station|"
    "Swansea station|Cardiff Bay station|Grangetown station|Ninian Park station|"
    "Cardiff Central bus station|Central Square|Pontypridd station|Barry Island station|"
    "Caerphilly station|Bridgend station|Cardiff Queen St"
)

LANDMARKS = _words(
    "Roald Dahl Plass|Aneurin Bevan statue|John Frost Square|Dylan Thomas Centre|"
    "Lloyd George Avenue|Sophia Gardens|Howells|Morgan Arcade|Ianto's Shrine|"
    "Tommy Cooper statue|St David's Centre|St David's Hall|Cardiff Castle|"
    "Principality Stadium|Millennium Centre|Bute Park|Roath Park|Mermaid Quay|"
    "Castle Arcade|Chippy Lane|the Hayes|Gorsedd Gardens|Alexandra Gardens|"
    "Castle Square|Friars Walk|Rodney Parade|Kingsway|Wind Street|Singleton Park|"
    "Ely Bridge|Splott Park|Victoria Park|Llandaff Fields|Cathays Park|Caroline Street|"
    "Queen Street|St Mary Street|Cowbridge Road East|City Road|Womanby Street|"
    "Greyfriars Road|Churchill Way|Charles Street|Mill Lane"
)

AREAS = _words(
    "Splott|Ely|Canton|Grangetown|Butetown|Cathays|Roath|Adamsdown|Llanrumney|Trowbridge|"
    "St Mellons|Caerau|Fairwater|Llandaff North|Rumney|Pentwyn|Llanedeyrn|Gabalfa|Heath|"
    "Riverside|Pillgwenlly|Maindee|Bettws|Townhill|Mayhill|Sandfields|Morriston|Sketty"
)

LOCATION_TYPES = _words(
    "Other's home|Patient's home|someone else's home|pts home|Pt's home|"
    "pt's own home|own home|friends house|friend's flat|mum's house|nans house|"
    "home address|at home|in the street|public place|licensed premises|school|"
    "at work|workplace|prison|hostel|taxi rank|kebab shop|chippy|garage forecourt|"
    "bus stop|car park|nightclub|pub|takeaway|shop|park|house party|student halls|"
    "supermarket|lane behind the shops"
)

WELSH_PHRASES = [
    ["tu allan i'r ", Keep("dafarn"), " ar ", Keep("Heol y Frenhines")],
    ["ger yr ", Keep("orsaf")],
    ["yn y ", Keep("dafarn")],
    ["ar ", Keep("Stryd y Santes Fair")],
    ["ger ", Keep("Castell Caerdydd")],
    ["yn y ", Keep("parc")],
    ["ar y ", Keep("bws")],
    [Keep("gorsaf Caerdydd Canolog")],
    ["tu allan i'r ", Keep("clwb nos")],
    ["yn ", Keep("nhŷ ffrind")],
    ["yn ei ", Keep("gartref")],
    ["ar ", Keep("Heol y Bont")],
    ["ger ", Keep("Canolfan y Mileniwm")],
    ["yn y ", Keep("siop")],
    ["ar ", Keep("Stryd Fawr")],
]

ABBREVIATED = _words(
    "st marys st|qn st|cowbridge rd east|newport rd|city rd|wind st|caroline st|"
    "bus stn|cdf central|st mary st|crwys rd|albany rd|clifton st|cathedral rd|"
    "broadway|penarth rd|north rd|whitchurch rd|commercial st|high st|castle st|"
    "cowbridge rd e|westgate st|bute st"
)

ABBREV_PREP = _words("o/s|nr|opp|outside|near|by|behind|in|at|on")
BUS_ROUTES = _words("1|2|6|9|17|18|27|28|44|45|52|57|58|61|62|95|X59|T9|30|86")
NUMERIC_VENUES = _words(
    "10 Feet Tall|Bar 33|Lab 22|Cru 42|No 6|Warehouse 54|Hangar 18|29 Park Place"
)

# --------------------------------------------------------------------------- people

FIRST_WELSH = _words(
    "Llŷr|Siôn|Siân|Gwenllïan|Dafydd|Rhiannon|Eleri|Ieuan|Iolo|Gethin|Cerys|Nia|"
    "Ffion|Mabli|Elin|Catrin|Osian|Rhodri|Aled|Bethan|Meinir|Gwawr|Tomos|Efa|Lowri|"
    "Seren|Carwyn|Emyr|Gruffydd|Heledd|Meirion|Geraint|Sioned|Angharad|Llinos|Rhys|"
    "Dyfan|Hywel|Gwion|Mererid|Non|Iestyn|Bronwen|Caradog|Ffraid"
)
FIRST_EN = _words(
    "Dave|Liam|Kelly|Jordan|Chloe|Jade|Kyle|Ryan|Sophie|Ben|Connor|Shannon|Jamie|Leanne|"
    "Gareth|Craig|Wayne|Darren|Stacey|Tyler|Kieran|Callum|Bradley|Amy|Lauren|Zoe|Nathan|"
    "Lee|Mark|Paul|Sharon|Tracey|Dean|Jason|Stuart|Becky|Kirsty|Ashley|Reece|Mason|"
    "Gemma|Rob|Gaz|Jonno|Tom|Josh|Danielle|Carl"
)
FIRST_OTHER = _words(
    "Mohammed|Aisha|Tomasz|Abdi|Priya|Oluwaseun|Zainab|Kacper|Ionuț|Fatima|Yusuf|"
    "Hamza|Amira|Bogdan|Agnieszka|Chidi|Mariam|Ahmed|Zoltán|Dário|Nguyễn|Siobhán|"
    "Seán|Aoife"
)
SURNAMES = _words(
    "Jones|Evans|Williams|Davies|Thomas|Roberts|Lewis|Hughes|Morgan|Griffiths|Price|"
    "Howells|Pritchard|Powell|Rees|Jenkins|Phillips|Llewellyn|Bevan|Parry|Owen|Watkins|"
    "Prosser|Hopkins|Edwards|Harries|Jarvis|Matthews|Rowlands|Vaughan|Gwilym|Prydderch|"
    "Lloyd|Meredith|Probert|Beynon|Bowen|Cadwaladr|Tudur|Smith|Taylor|Walsh|O'Brien|"
    "McCarthy|Khan|Begum|Hussain|Nowak|Kowalski|Wiśniewski|Popescu|Adeyemi|Okafor|"
    "Hassan|Patel|Mahmoud|Ó Súilleabháin|Gruffudd|ap Gwyn|Llywelyn|Tanner|Burke|Lynch|"
    "Chapman|Kerr"
)
WELSH_FATHERS = _words("Rhys|Gwilym|Dafydd|Hywel|Iorwerth|Emrys|Huw|Gruffydd")
RELATIONS = _words(
    "brother|son|step dad|stepdad|cousin|mum's boyfriend|neighbour|ex partner|"
    "ex-partner|husband|wife|gf|bf|boyfriend|girlfriend|flatmate|landlord|uncle|nephew|"
    "dad|sister|ex|partner"
)

# --------------------------------------------------------------------------- generator


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        pubs = []
        for path in (
            DATA / "venues" / "fsa_food_hygiene_cardiff_2020-11.xml",
            DATA / "newport" / "fsa_food_hygiene_newport.xml",
            DATA / "swansea" / "fsa_food_hygiene_swansea.xml",
        ):
            pubs += _pubs(path)
        self.fsa = sorted(set(pubs))
        self.venues = sorted({name for name, _ in self.fsa} | set(HAND_VENUES))
        streets = _streets()
        self.streets = [s for s in streets if STREET_SUFFIX.search(s)]
        self.welsh = sorted(
            {s for s in streets if WELSH_PREFIX.search(s)} | set(HAND_WELSH_STREETS)
        )
        self.person_streets = [s for s in self.streets if PERSON_STREET.search(s)]
        self.rows: list[dict] = []
        self.seen: set[str] = set()
        self.rejected = 0

    # ---- small choices
    def c(self, seq):
        return self.r.choice(seq)

    def p(self, prob: float) -> bool:
        return self.r.random() < prob

    def street(self) -> str:
        roll = self.r.random()
        if roll < 0.2:
            return self.c(self.welsh)
        if roll < 0.35:
            return self.c(self.person_streets)
        s = self.c(self.streets)
        if self.p(0.1):
            s = s.lower()
        return s

    def home_street(self) -> str:
        s = self.c(self.welsh) if self.p(0.45) else self.c(self.streets)
        if self.p(0.15):
            s = s.lower()
        elif self.p(0.2):  # Welsh articles typed in lower case, as on signs
            s = re.sub(r"\b(Y|Yr|Y'r)\b", lambda m: m.group(1).lower(), s)
        return s

    def prep(self) -> Part:
        """A preposition; the abbreviated ones are must-keep words."""
        word = self.c(ABBREV_PREP)
        return Keep(word) if word in ("o/s", "nr", "opp") else word

    def venue(self) -> str:
        v = self.c(self.venues) if self.p(0.75) else self.c(HAND_VENUES)
        if self.p(0.08):
            v = v.lower()
        return v

    def time(self) -> str:
        h = self.c([20, 21, 22, 23, 0, 1, 2, 3, 4, 17, 18, 19])
        m = self.c([0, 15, 30, 45, 5, 50, 10])
        return self.c(
            [
                f"{h:02d}{m:02d}",
                f"{h:02d}:{m:02d}",
                f"{h:02d}.{m:02d}",
                f"{(h - 1) % 12 + 1}{'am' if h < 12 else 'pm'}",
            ]
        )

    def first(self) -> str:
        roll = self.r.random()
        if roll < 0.4:
            return self.c(FIRST_WELSH)
        if roll < 0.85:
            return self.c(FIRST_EN)
        return self.c(FIRST_OTHER)

    def full(self) -> str:
        if self.p(0.08):
            joiner = "ab" if self.p(0.3) else "ap"
            father = self.c(WELSH_FATHERS)
            if joiner == "ab":
                father = self.c(["Owain", "Ifan", "Einion", "Iorwerth", "Emrys"])
            return f"{self.c(FIRST_WELSH)} {joiner} {father}"
        if self.p(0.04):
            return f"{self.c(FIRST_WELSH)} ferch {self.c(WELSH_FATHERS)}"
        name = f"{self.first()} {self.c(SURNAMES)}"
        if self.p(0.1):
            name = f"{self.first()} {self.c(FIRST_WELSH)} {self.c(SURNAMES)}"
        if self.p(0.05):
            name = f"{self.first()} {self.c(SURNAMES)}-{self.c(SURNAMES)}"
        return name

    def place(self) -> list[Part]:
        """A must-keep place phrase, as parts."""
        k = self.r.randrange(14)
        if k == 0:
            return [Keep(self.venue())]
        if k == 1:
            return [self.prep(), " ", Keep(self.venue())]
        if k == 2:
            return [Keep(self.venue()), self.c([" on ", ", ", " - ", " "]), Keep(self.street())]
        if k == 3:
            return [Keep(self.street())]
        if k == 4:
            return [Keep(self.c(LOCATION_TYPES))]
        if k == 5:
            return [self.c(["nr ", "near ", "opp ", "outside "]), Keep(self.c(STATIONS))]
        if k == 6:
            return [
                Keep(str(self.r.randint(2, 6))),
                self.c([" males on ", " lads on ", " youths outside ", " men at "]),
                Keep(self.street()),
            ]
        if k == 7:
            return ["bus ", Keep(self.c(BUS_ROUTES)), " on ", Keep(self.street())]
        if k == 8:
            return [
                self.c(["around ", "approx ", "at ", "@ "]),
                Keep(self.time()),
                " on ",
                Keep(self.street()),
            ]
        if k == 9:
            return [Keep(self.c(LANDMARKS))]
        if k == 10:
            return self.c(WELSH_PHRASES)
        if k == 11:
            return [self.prep(), " ", Keep(self.c(ABBREVIATED))]
        if k == 12:
            return ["in ", Keep(self.c(AREAS))]
        return [Keep(self.c(NUMERIC_VENUES))]

    # ---- identifiers
    def nhs(self, valid: bool) -> str:
        while True:
            d = [self.r.randrange(10) for _ in range(9)]
            check = 11 - sum(x * (10 - i) for i, x in enumerate(d)) % 11
            check = 0 if check == 11 else check
            if valid and check != 10:
                return "".join(map(str, [*d, check]))
            if not valid:
                wrong = self.r.randrange(10)
                if wrong != check:
                    return "".join(map(str, [*d, wrong]))

    def nhs_text(self, digits: str) -> str:
        a, b, c = digits[:3], digits[3:6], digits[6:]
        return self.c(
            [
                f"{a} {b} {c}",
                digits,
                f"{a}.{b}.{c}",
                f"{a}/{b}/{c}",
                f"{a}-{b}-{c}",
                f"{a}  {b}  {c}",
                f"{digits[:4]} {digits[4:7]} {digits[7:]}",
                " ".join(digits),
                f"{a} {b}-{c}",
                f"{a} {digits[3:7]} {digits[7:]}",
                " ".join(digits[k : k + 2] for k in range(0, 10, 2)),
                f"{a}{b} {c}",
                f"{a} {b}{c}",
                f"{a}. {b}. {c}",
                f"{a}\t{b} {c}",
            ]
        )

    def mobile(self) -> str:
        digits = "07" + self.c("7894") + "".join(str(self.r.randrange(10)) for _ in range(8))
        a, b = digits[:5], digits[5:]
        n = digits[1:]  # without the trunk 0
        return self.c(
            [
                f"{a} {b}",
                digits,
                f"{a}-{b[:3]}-{b[3:]}",
                f"{a} {b[:3]} {b[3:]}",
                f"{digits[:4]} {digits[4:7]} {digits[7:]}",
                f"+44 {n[:4]} {n[4:]}",
                f"+44 (0){n[:4]} {n[4:]}",
                f"+44{n}",
                f"0044 {n[:4]} {n[4:]}",
                f"{a}.{b[:3]}.{b[3:]}",
                f"({a}) {b}",
                f"{a} {b[:2]} {b[2:4]} {b[4:]}",
                f"{digits[:3]} {digits[3:7]} {digits[7:]}",
                f"+44-{n[:4]}-{n[4:]}",
                f"(+44) {n[:4]} {n[4:]}",
            ]
        )

    def landline(self) -> str:
        rest = "".join(str(self.r.randrange(10)) for _ in range(8))
        if self.p(0.5):
            local = "20" + rest[:2] + rest[2:6] if self.p(0.7) else "2" + rest[:7]
            x, y = local[:4], local[4:]
            return self.c(
                [
                    f"(029) {x} {y}",
                    f"029 {x} {y}",
                    f"029{x}{y}",
                    f"029-{x}-{y}",
                    f"029 {x[:2]} {x[2:]}{y}",
                    f"+44 29 {x} {y}",
                    f"+44 (0)29 {x} {y}",
                    f"(029){x} {y}",
                    f"029.{x}.{y}",
                    f"029 {x}{y}",
                    f"0044 29 {x} {y}",
                ]
            )
        code = self.c(_words("01443|01633|01792|01656|01446|01685|01639|01222"))
        local = str(self.r.randint(2, 8)) + rest[:5]
        return self.c(
            [
                f"({code}) {local}",
                f"{code} {local}",
                f"{code}{local}",
                f"{code}-{local}",
                f"{code} {local[:3]} {local[3:]}",
                f"+44 {code[1:]} {local}",
                f"+44 (0){code[1:]} {local}",
                f"{code}.{local}",
                f"0044 {code[1:]} {local}",
            ]
        )

    def postcode(self) -> str:
        outward = self.c(
            _words(
                "CF3|CF5|CF10|CF11|CF14|CF15|CF23|CF24|CF31|CF37|CF38|CF40|CF44|CF48|CF62|CF63|"
                "CF64|CF72|CF81|CF83|NP4|NP10|NP11|NP18|NP19|NP20|NP44|SA1|SA2|SA4|SA5|SA6|SA7|"
                "SA10|SA11|SA12"
            )
        )
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        inward = f"{self.r.randint(0, 9)}{self.c(letters)}{self.c(letters)}"
        form = self.r.randrange(10)
        if form == 0:
            return f"{outward}{inward}"
        if form == 1:
            return f"{outward} {inward}".lower()
        if form == 2:
            return f"{outward}-{inward}"
        if form == 3:
            return f"{outward} {inward[0]} {inward[1:]}"
        if form == 4:
            return f"{outward}  {inward}"
        if form == 5:
            return f"{outward.capitalize()} {inward.lower()}"
        if form == 6:
            return f"{outward}{inward}".lower()
        return f"{outward} {inward}"

    def dob(self) -> str:
        y = self.r.randint(1938, 2009)
        mo = self.r.randint(1, 12)
        d = self.r.randint(1, 28)
        months = _words(
            "January|February|March|April|May|June|July|August|September|October|November|December"
        )
        name = months[mo - 1]
        short = name[:3]
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        yy = f"{y % 100:02d}"
        return self.c(
            [
                f"{y}-{mo:02d}-{d:02d}",
                f"{d:02d}{mo:02d}{y}",
                f"{d:02d}-{short}-{y}",
                f"{name} {d}, {y}",
                f"{d}/{mo}/{yy}",
                f"{d:02d}.{mo:02d}.{y}",
                f"{d:02d}/{mo:02d}/{y}",
                f"{d}/{mo}/{y}",
                f"{d}{suffix} {name} {y}",
                f"{d} {name} {yy}",
                f"{d:02d}-{mo:02d}-{y}",
                f"{y}/{mo:02d}/{d:02d}",
                f"{d} {short.lower()} {y}",
                f"{d}{suffix} of {name} {y}",
                f"{d:02d}.{mo:02d}.{yy}",
                f"{d:02d} {mo:02d} {y}",
                f"{d}{suffix} {short} {y}",
                f"{short} {d} {y}",
                f"{d:02d}{mo:02d}{yy}",
                f"{d:02d}/{mo:02d}/{yy}",
                f"{d} {short.upper()} {y}",
                f"{d:02d}-{short.upper()}-{yy}",
            ]
        )

    def email(self) -> str:
        first = self.c([*FIRST_EN, "llyr", "sian", "cerys", "gethin", "rhodri", "nia"]).lower()
        sur = self.c(SURNAMES[:40]).lower().replace("'", "")
        n = self.r.randint(1, 99)
        local = self.c(
            [
                f"{first}.{sur}",
                f"{first[0]}{sur}{n}",
                f"{first}_{sur[0]}",
                f"{first}{sur}",
                f"{first}-{sur}{n}",
                f"{sur}.{first}{n}",
                f"{first}{n}x",
                f"{first}.{sur}.{n}",
            ]
        )
        domain = self.c(
            _words(
                "gmail.com|hotmail.co.uk|hotmail.com|yahoo.co.uk|outlook.com|icloud.com|live.co.uk|"
                "btinternet.com|cardiff.ac.uk|nhs.net|student.swan.ac.uk|aol.com|sky.com|"
                "googlemail.com|virginmedia.com"
            )
        )
        dotted = domain.replace(".", " dot ")
        form = self.r.randrange(10)
        if form < 4:
            return f"{local}@{domain}"
        if form == 4:
            return f"{local}@{domain}".upper()
        if form == 5:
            return f"{local} at {dotted}"
        if form == 6:
            return f"{local} (at) {domain.replace('.', ' (dot) ')}"
        if form == 7:
            return f"{local}[at]{domain}"
        if form == 8:
            return f"{local} @ {domain}"
        return f"{local} AT {dotted.upper()}"

    # ---- rows
    def add(self, group: str, parts: list[Part]) -> bool:
        text = ""
        ids: list[tuple[Id, int, int]] = []
        keeps: list[str] = []
        for part in parts:
            if isinstance(part, Id):
                ids.append((part, len(text), len(text) + len(part.value)))
                text += part.value
            elif isinstance(part, Keep):
                keeps.append(part.value)
                text += part.value
            else:
                text += part
        if (
            text != text.strip()
            or len(text) > 220
            or text in self.seen
            or not self._valid(text, ids, keeps)
        ):
            self.rejected += 1
            return False
        self.seen.add(text)
        self.rows.append(
            {
                "id": len(self.rows) + 1,
                "group": group,
                "text": text,
                "identifiers": [{"kind": i.kind, "value": i.value} for i, _, _ in ids],
                "keep": list(dict.fromkeys(keeps)),
            }
        )
        return True

    @staticmethod
    def _valid(text: str, ids: list[tuple[Id, int, int]], keeps: list[str]) -> bool:
        spans = [(a, b) for _, a, b in ids]
        for keep in keeps:
            found = bounded(text, keep)
            if not found:
                return False
            for start in found:
                if any(a < start + len(keep) and start < b for a, b in spans):
                    return False
        for ident, a, b in ids:
            rest = text[:a] + " " * (b - a) + text[b:]
            if leaked(ident.kind, ident.value, rest):
                return False  # the value also occurs outside its own span
            if ident.kind in ("name", "house_number") and not bounded(text, ident.value):
                return False
            if ident.kind == "name" and any(
                bounded(squash(rest), squash(part), case=False) for part in name_parts(ident.value)
            ):
                return False  # a word of the name is also a place word here
        return True

    def fill(self, group: str, n: int, make) -> None:
        made = tries = 0
        while made < n and tries < n * 50:
            tries += 1
            made += self.add(group, make())


def build(seed: int = SEED) -> list[dict]:
    g = Gen(seed)
    r, c, p = g.r, g.c, g.p

    def pl() -> list[Part]:
        return g.place()

    # ---- NHS numbers
    nhs_cues = _words(
        "NHS no |NHS No: |nhs# |NHS number |NHS |nhs no. |NHSno |(NHS ||pt NHS |"
        "nhs num |NHS:|Nhs No |nhs number: |NHS#"
    )

    def nhs_row(valid: bool):
        def make():
            ident = Id("nhs_number", g.nhs_text(g.nhs(valid)))
            cue = c(nhs_cues)
            close = ")" if cue.startswith("(") else ""
            form = r.randrange(4)
            if form == 0:
                return [cue, ident, close, c([" ", " - ", ", ", " / "]), *pl()]
            if form == 1:
                return [*pl(), c([" ", " - ", ", ", ". "]), cue, ident, close]
            if form == 2:
                return ["assaulted ", *pl(), c([" ", "; "]), cue, ident, close, " pt stated"]
            return [cue, ident, close]

        return make

    g.fill("nhs_number/valid", 110, nhs_row(True))
    g.fill("nhs_number/invalid", 90, nhs_row(False))

    # ---- phones
    phone_cues = _words(
        "mob |mob: |tel |tel: |ph |phone |contact no |call |ring mum on ||m: |t. |"
        "mobile |home tel |NOK |mob|Mob.|contact: |pt's number |tel no "
    )

    def phone_row(kind: str):
        def make():
            ident = Id("phone", g.mobile() if kind == "mobile" else g.landline())
            cue = c(phone_cues)
            form = r.randrange(4)
            if form == 0:
                return [*pl(), c([" ", " - ", ", ", " ("]), cue, ident]
            if form == 1:
                return [cue, ident, c([" ", " - ", ", "]), *pl()]
            if form == 2:
                return ["assaulted by ex ", *pl(), " - wants police to ", cue, ident]
            return [cue, ident]

        return make

    g.fill("phone/mobile", 130, phone_row("mobile"))
    g.fill("phone/landline", 90, phone_row("landline"))

    # ---- postcodes
    pc_cues = _words(
        "|pc |post code |postcode: |home address |lives |addr |P/C |home pc |postcode "
    )

    def pc_make():
        ident = Id("postcode", g.postcode())
        form = r.randrange(5)
        if form == 0:
            return [
                Keep(c(["Patient's home", "pts home", "Other's home", "home"])),
                c([" ", ", ", " - "]),
                c(pc_cues),
                ident,
            ]
        if form == 1:
            return [Keep(g.home_street()), c([" ", ", "]), ident]
        if form == 2:
            return [c(pc_cues), ident, c([" - ", ", ", " "]), "assaulted ", *pl()]
        if form == 3:
            opener = c([" (home ", " - lives ", ", home "])
            return [*pl(), opener, ident, ")" if "(" in opener else ""]
        return [Keep(c(AREAS)), " ", ident]

    g.fill("postcode", 200, pc_make)

    # ---- dates of birth
    dob_cues = _words(
        "dob |DOB |DOB: |d.o.b |D.O.B. |date of birth: |date of birth |born |b. |DoB-|"
        "dob:|birth date |(dob |DOB=|d.o.b. |Date of Birth |DOB - |dob. |pt dob |D.O.B:"
    )

    def dob_make():
        ident = Id("date_of_birth", g.dob())
        cue = c(dob_cues)
        close = ")" if cue.startswith("(") else ""
        form = r.randrange(4)
        if form == 0:
            return [cue, ident, close, c([" ", " - ", ", "]), *pl()]
        if form == 1:
            return [*pl(), c([" ", ", ", " - "]), cue, ident, close]
        if form == 2:
            return ["assaulted ", Keep(g.time()), " ", *pl(), " ", cue, ident, close]
        return [cue, ident, close]

    g.fill("date_of_birth", 200, dob_make)

    # ---- e-mails
    email_cues = _words("|email |e-mail |email: |contact |e: |Email - |pt email ")

    def email_make():
        ident = Id("email", g.email())
        form = r.randrange(3)
        if form == 0:
            return [c(email_cues), ident, c([" ", " - ", ", "]), *pl()]
        if form == 1:
            return [*pl(), c([" ", ", ", " - "]), c(email_cues), ident]
        return [c(email_cues), ident]

    g.fill("email", 170, email_make)

    # ---- names
    def name_make():
        k = r.randrange(24)
        full = g.full()
        first = g.first()
        if k == 0:
            return ["assaulted by ", Id("name", full), " ", c(["at ", "in ", "outside "]), *pl()]
        if k == 1:
            return [
                Id("name", full),
                c([" hit him outside ", " punched pt in ", " - "]),
                Keep(g.venue()),
            ]
        if k == 2:
            return [
                Id("name", full.lower()),
                c([" kicked off in ", " hit her at "]),
                Keep(g.venue()),
            ]
        if k == 3:
            return [
                "my mate ",
                Id("name", first),
                c([" got jumped on ", " and me on "]),
                Keep(g.street()),
            ]
        if k == 4:
            return [
                "fight with ",
                Id("name", full),
                c([" o/s ", " outside ", " in "]),
                Keep(g.venue()),
            ]
        if k == 5:
            return [
                c(["bf ", "gf ", "ex "]),
                Id("name", full),
                " at ",
                c(["his", "her", "their"]),
                " ",
                Keep("flat"),
                c(["", " on "]),
            ] + ([Keep(g.street())] if p(0.5) else [])
        if k == 6:
            return [
                Keep(c(["partner", "husband", "ex"])),
                " (",
                Id("name", first),
                ") at ",
                Keep(c(["pts home", "Patient's home", "their home"])),
            ]
        if k == 7:
            father = c([*WELSH_FATHERS, "Owain", "Ifan", "Einion"])
            pat = f"{c(FIRST_WELSH)} {'ab' if father[0] in 'AEIOU' else 'ap'} {father}"
            return [
                c(["hit by ", "assaulted by ", "", "known to pt - "]),
                Id("name", pat),
                " ",
                *pl(),
            ]
        if k == 8:
            a, b = g.full(), g.full()
            return [
                Id("name", a),
                c([" and ", " & ", " + "]),
                Id("name", b),
                c([" fighting in ", " jumped pt outside ", " on "]),
                *pl(),
            ]
        if k == 9:
            return [
                "between ",
                Id("name", g.full()),
                " & ",
                Id("name", first),
                " on ",
                Keep(g.street()),
            ]
        if k == 10:
            return [
                Id("name", first),
                "'s ",
                Keep(c(["flat", "house", "place"])),
                c([", ", " on ", " off "]),
                Keep(g.street()),
            ]
        if k == 11:
            return ["at ", Id("name", first), "'s ", Keep(c(["house", "flat", "party"]))]
        if k == 12:
            return [
                Id("name", full),
                "'s ",
                Keep(c(["house", "flat", "garden"])),
                " in ",
                Keep(c(AREAS)),
            ]
        if k == 13:
            title = c(["Mr ", "Mrs ", "Miss ", "Ms ", "mr "])
            return [
                c(["neighbour ", "landlord ", "", "hit by "]),
                title,
                Id("name", c(SURNAMES)),
                " ",
                *pl(),
            ]
        if k == 14:
            return [
                "punched by a man called ",
                Id("name", first),
                c([" in ", " outside "]),
                Keep(g.venue()),
            ]
        if k == 15:
            v = g.venue().upper()
            return ["ASSAULTED BY ", Id("name", full.upper()), " O/S ", Keep(v)]
        if k == 16:
            return [Keep(g.street()), c([" - ex ", " - partner ", ", by "]), Id("name", full)]
        if k == 17:
            return [
                "pt says ",
                Id("name", full),
                " (",
                c(RELATIONS),
                ") hit her on ",
                Keep(g.street()),
            ]
        if k == 18:
            return [
                c(["known assailant: ", "assailant ", "suspect "]),
                Id("name", full),
                ", ",
                *pl(),
            ]
        if k == 19:
            return [c(RELATIONS), " ", Id("name", full), " ", c(["at ", "in ", ""]), *pl()]
        if k == 20:
            return [c(["name: ", "contact ", "NOK ", "next of kin "]), Id("name", full), " ", *pl()]
        if k == 21:
            sur, fn = c(SURNAMES), first
            return [Id("name", f"{sur.upper()}, {fn}"), " - ", *pl()]
        if k == 22:
            return [*pl(), c([" with ", " by ", " - "]), Id("name", full.lower())]
        return [*pl(), " (", c(RELATIONS), " ", Id("name", first), ")"]

    g.fill("name", 360, name_make)

    # ---- house numbers of homes
    def house_make():
        n = str(r.randint(1, 250))
        if p(0.1):
            n += c(["a", "b", "A"])
        street = g.home_street()
        k = r.randrange(9)
        home = Keep(
            c(
                _words(
                    "pts home|Patient's home|home|Other's home|friends house|his house|her flat|"
                    "mum's house|someone else's home"
                )
            )
        )
        if k == 0:
            return [home, c([" ", " - ", ", ", " at "]), Id("house_number", n), " ", Keep(street)]
        if k == 1:
            return [
                c(["address ", "addr ", "lives ", "home address "]),
                Id("house_number", n),
                c([" ", ", "]),
                Keep(street),
            ]
        if k == 2:
            flat = str(r.randint(1, 30))
            return [
                c(["flat ", "Flat ", "flt "]),
                Id("house_number", flat),
                c([", ", " "]),
                Id("house_number", n),
                " ",
                Keep(street),
            ]
        if k == 3:
            return ["at home - ", Id("house_number", n), " ", Keep(street), ", ", Keep(c(AREAS))]
        if k == 4:
            return [
                c(["no. ", "No ", "number "]),
                Id("house_number", n),
                " ",
                Keep(street),
                " (",
                home,
                ")",
            ]
        if k == 5:
            return [Id("house_number", n), c([" ", ", "]), Keep(street), c([" ", " - "]), home]
        if k == 6:
            return [home, " (", Id("house_number", n), " ", Keep(street), ")"]
        if k == 7:
            return [
                c(["assaulted by partner at ", "domestic at ", "DV at "]),
                Id("house_number", n),
                " ",
                Keep(street),
            ]
        return [
            Id("house_number", n),
            " ",
            Keep(street),
            " - ",
            Keep(c(_words("kitchen|front door|garden|stairs|bedroom|doorstep"))),
        ]

    g.fill("house_number", 200, house_make)

    # ---- mixed rows: several kinds and places in one text
    def mixed_make():
        k = r.randrange(8)
        if k == 0:
            return [
                "assaulted by ",
                Id("name", g.full()),
                " at ",
                Id("house_number", str(r.randint(1, 200))),
                " ",
                Keep(g.home_street()),
                " ",
                Id("postcode", g.postcode()),
                ", mob ",
                Id("phone", g.mobile()),
            ]
        if k == 1:
            return [
                "NHS ",
                Id("nhs_number", g.nhs_text(g.nhs(p(0.6)))),
                " dob ",
                Id("date_of_birth", g.dob()),
                " - ",
                *pl(),
            ]
        if k == 2:
            return [
                Id("name", g.full()),
                " (",
                Id("email", g.email()),
                ") ",
                c(["o/s ", "in "]),
                Keep(g.venue()),
                " approx ",
                Keep(g.time()),
            ]
        if k == 3:
            return [
                *pl(),
                " - pt ",
                Id("name", g.full()),
                " DOB ",
                Id("date_of_birth", g.dob()),
                " tel ",
                Id("phone", g.landline()),
            ]
        if k == 4:
            return [
                Keep(str(r.randint(2, 5))),
                " males outside ",
                Keep(g.venue()),
                ", one was ",
                Id("name", g.full()),
                " ",
                Id("phone", g.mobile()),
            ]
        if k == 5:
            return [
                "bus ",
                Keep(c(BUS_ROUTES)),
                " on ",
                Keep(g.street()),
                ", pt lives ",
                Id("house_number", str(r.randint(1, 200))),
                " ",
                Keep(g.home_street()),
                " ",
                Id("postcode", g.postcode()),
            ]
        if k == 6:
            return [
                "fight with ",
                Id("name", g.first()),
                " at ",
                Keep(c(LANDMARKS)),
                " around ",
                Keep(g.time()),
                " nhs no ",
                Id("nhs_number", g.nhs_text(g.nhs(True))),
            ]
        return [
            Keep(c(["Other's home", "someone else's home", "friends house"])),
            " - ",
            Id("name", g.first()),
            "'s ",
            Keep("flat"),
            ", ",
            Id("house_number", str(r.randint(1, 200))),
            " ",
            Keep(g.home_street()),
            " ",
            Id("email", g.email()),
        ]

    g.fill("mixed", 170, mixed_make)

    # ---- must-keep texts: look risky, hold no identifier
    def keep_make():
        k = r.randrange(22)
        if k == 0:
            return [Keep(c(HAND_VENUES))]
        if k == 1:
            return [
                c(["outside ", "in ", "inside ", "at ", "o/s "]),
                Keep(g.venue()),
                c(["", " pub", " nightclub", " bar"]),
            ]
        if k == 2:
            name, street = c([f for f in g.fsa if f[1]])
            return [Keep(name), c([" on ", ", ", " - "]), Keep(street)]
        if k == 3:
            return [
                Keep(str(r.randint(2, 8))),
                c([" males on ", " lads outside ", " females in ", " men on "]),
                Keep(g.street()),
            ]
        if k == 4:
            return [
                "aged ",
                Keep(str(r.randint(15, 70))),
                c([" outside ", " on ", " near "]),
                Keep(g.street()),
            ]
        if k == 5:
            return [
                c(["bus ", "on the ", "no. ", "number "]),
                Keep(c(BUS_ROUTES)),
                c([" on ", " bus on ", " along "]),
                Keep(g.street()),
            ]
        if k == 6:
            return [
                c(["around ", "approx ", "at ", "about "]),
                Keep(g.time()),
                " on ",
                Keep(g.street()),
            ]
        if k == 7:
            return [*pl(), ", ", Keep(str(r.randint(1, 5))), " hrs before arrival"]
        if k == 8:
            return [Keep(c(LOCATION_TYPES))]
        if k == 9:
            return [*c(WELSH_PHRASES)]
        if k == 10:
            return [g.prep(), " ", Keep(c(ABBREVIATED))]
        if k == 11:
            return [c(["outside ", "nr ", "opp ", "on ", ""]), Keep(c(g.person_streets))]
        if k == 12:
            return [c(["near ", "at ", "outside ", "opp "]), Keep(c(STATIONS))]
        if k == 13:
            return [c(["by ", "at ", "near ", ""]), Keep(c(LANDMARKS))]
        if k == 14:
            return [Keep(c(NUMERIC_VENUES)), c([", ", " on ", " - "]), Keep(g.street())]
        if k == 15:
            return [Keep(c(LOCATION_TYPES)), " - ", Keep(c(AREAS))]
        if k == 16:
            return [
                Keep(c(AREAS)),
                " ",
                Keep(c(_words("CF24|CF5|CF11|NP20|SA1|CF3"))),
                c([" area", ""]),
            ]
        if k == 17:
            return ["group of ", Keep(str(r.randint(3, 12))), " ", *pl()]
        if k == 18:
            return [
                Keep(g.venue()),
                " ",
                Keep(g.time()),
                " ",
                Keep(c(["Fri", "Sat", "Sunday", "sat night"])),
            ]
        if k == 19:
            return [*pl(), " ", c(["approx ", "around "]), Keep(g.time())]
        if k == 20:
            return [Keep(c(g.welsh)), c(["", ", ", " - "]), Keep(c(AREAS))]
        return [Keep(g.venue()), c([" / ", " then ", " and "]), Keep(g.venue())]

    g.fill("keep", 460, keep_make)

    return g.rows


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    groups: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for row in rows:
        groups[row["group"]] = groups.get(row["group"], 0) + 1
        for ident in row["identifiers"]:
            kinds[ident["kind"]] = kinds.get(ident["kind"], 0) + 1
    print(f"{len(rows)} rows -> {OUT}")
    print("groups:", groups)
    print("identifiers:", kinds)
    print("keep words:", sum(len(r["keep"]) for r in rows))


if __name__ == "__main__":
    main()
