"""Build the privacy development set (tests/privacy_dev/dev.tsv), seeded, by hand-written forms.

Each row: ``kind`` (an identifier kind, or ``keep`` for text that must pass untouched),
``text`` as reception staff might type it, ``secrets`` (``|``-separated identifiers that
must not survive) and ``keep`` (``|``-separated words that must survive). Identifier forms
and place texts are written here by hand; NHS numbers are drawn at random (valid ones pass
the modulus-11 check, the others fail it); must-keep venue and street names are drawn from
the real FSA and data.police.uk files in ../shared/data.

    .venv/bin/python tests/privacy_dev/build.py ../shared/data
"""

from __future__ import annotations

import csv
import random
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OUT = Path(__file__).with_name("dev.tsv")
SEED = 17


def nhs(rng: random.Random, valid: bool = True) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=False))
        check = (11 - total % 11) % 11
        if check == 10:
            continue
        last = check if valid else (check + rng.randint(1, 9)) % 10
        return "".join(map(str, digits)) + str(last)


NHS_FORMS = [
    "{a} {b} {c}",
    "{a}{b}{c}",
    "{a}-{b}-{c}",
    "{a}.{b}.{c}",
    "{a}/{b}/{c}",
    "{a}  {b}  {c}",
    "{d4} {d3} {d3b}",
    "{pairs}",
    "{spaced}",
    "{a} {b}{c}",
    "{a}{b} {c}",
    "{a} - {b} - {c}",
]
NHS_CONTEXT = [
    "NHS {n}",
    "nhs no {n}",
    "NHS no. {n} o/s Revs",
    "pts home, NHS number: {n}",
    "(NHS {n})",
    "nhs#{n}",
    "NHS:{n} town",
    "{n}",
    "queen st {n}",
    "unk - nhs {n} - pt refused",
    "pt {n}",
    "Rhif GIG {n} tu allan i'r dafarn",
    "ref {n} city rd",
]
PHONES = [
    "029 2034 5678",
    "(029) 2034 5678",
    "(029)20345678",
    "(01443) 123456",
    "(01443)123456",
    "+44 (0)29 2034 5678",
    "+44(0)7700 900461",
    "+44 29 2034 5678",
    "+447700900461",
    "0044 7700 900461",
    "0044 29 2034 5678",
    "07700.900.461",
    "07700-900-461",
    "07700 900 461",
    "mob0779 123 4567",
    "mob:07791234567",
    "mob07791234567",
    "tel 02920 345678",
    "tel: 01656 765432",
    "ph 01222 345678",
    "07 700 900 461",
    "0 7700 900461",
    "077 009 00461",
    "02920345678",
    "029-2034-5678",
    "(01633) 212 345",
    "01792 456789",
    "+44 1633 212345",
    "mobile 07912 345 678",
    "07912345678",
    "07912 345678",
    "m: 07912-345-678",
    "+44 (0) 7912 345678",
    "0044(0)7912345678",
    "landline (029) 2049 1234",
    "(0)7912 345678",
    "ff\u00f4n 07912 345678",
    "rhif ff\u00f4n 029 2034 5678",
    "07700 900461 ext 2",
    "+44-7700-900461",
]
PHONE_CONTEXT = [
    "pts home tel {p}",
    "{p}",
    "o/s Revs {p}",
    "contact {p} (sister)",
    "city rd - {p}",
    "{p} queen st",
    "unk, call {p}",
]
EMAILS = [
    ("jo.bloggs@gmail.com", "jo.bloggs"),
    ("rhys_jones99@hotmail.co.uk", "rhys_jones99"),
    ("rhysjones at gmail dot com", "rhysjones"),
    ("cerys.l at hotmail dot co dot uk", "cerys.l"),
    ("dai[at]btinternet[dot]com", "dai"),
    ("dai.p (at) yahoo (dot) com", "dai.p"),
    ("JO.BLOGGS@GMAIL.COM", "JO.BLOGGS"),
    ("sion99 @ outlook . com", "sion99"),
    ("sian.evans AT nhs DOT net", "sian.evans"),
    ("ffion_w@icloud.com", "ffion_w"),
    ("llyr.evans@cymru.wales", "llyr.evans"),
    ("bigdave1985 at live dot co dot uk", "bigdave1985"),
    ("k.morgan@student.cardiff.ac.uk", "k.morgan"),
    ("gethin@gethinjones.co.uk", "gethin"),
    ("nia-rees @ gmail.com", "nia-rees"),
    ("megan.h@gmail .com", "megan.h"),
    ("tom{at}hotmail{dot}com", "tom"),
    ("owain.p AT gmail.com", "owain.p"),
    ("emma.w@yahoo.co.uk", "emma.w"),
    ("liam_h_1990@hotmail.com", "liam_h_1990"),
]
EMAIL_CONTEXT = ["email {e}", "{e}", "pt email {e} o/s club", "e-bost {e}", "contact: {e}"]
POSTCODES = [
    ("CF24 3AA", "CF24 3AA"),
    ("CF243AA", "CF243AA"),
    ("cf24 3aa", "cf24 3aa"),
    ("CF62-4FX", "CF62-4FX"),
    ("CF24 3 FB", "CF24 3 FB"),
    ("CF10  1EP", "CF10  1EP"),
    ("NP20 4AB", "NP20 4AB"),
    ("SA1 3RB", "SA1 3RB"),
    ("cf14-4xw", "cf14-4xw"),
    ("CF5 1AB", "CF5 1AB"),
    ("CF24.3AA", "CF24.3AA"),
    ("CF11 9LJ", "CF11 9LJ"),
    ("cf3 0ab", "cf3 0ab"),
    ("CF64 1 AB", "CF64 1 AB"),
    ("NP19 0 GH", "NP19 0 GH"),
    ("CF23 5-HQ", "CF23 5-HQ"),
    ("SA6 8NL", "SA6 8NL"),
    ("CF31 1RQ", "CF31 1RQ"),
    ("CF37 4 DP", "CF37 4 DP"),
    ("cf14 4xw", "cf14 4xw"),
    ("CF83 1HA", "CF83 1HA"),
]
POSTCODE_CONTEXT = [
    "pts home {c}",
    "home {c}",
    "post code {c}",
    "{c}",
    "flat, {c}",
    "cod post {c}",
    "address given {c}",
]
DOBS = [
    "dob 1960-10-20",
    "DOB 03082002",
    "DOB 02-Oct-1959",
    "date of birth: February 22, 1956",
    "d.o.b. 3/8/02",
    "DoB 3.8.2002",
    "born 22/02/1956",
    "b. 22.02.56",
    "DOB:22 Feb 1956",
    "dob 22nd February 1956",
    "d.o.b 1956/02/22",
    "DOB 22-02-1956",
    "DOB 220256",
    "birthday 22/02/1956",
    "dob feb 22 1956",
    "D.O.B. 14th of March 1988",
    "dob: 1/1/70",
    "DOB 1.1.1970",
    "date of birth 05 06 1999",
    "dob 5 June 99",
    "born on 12 Jan 2001",
    "DOB=12/01/2001",
    "dob 12jan2001",
    "d.o.b - 12.01.01",
    "DOB 2001-01-12",
    "dyddiad geni 12/01/2001",
    "DOB 12 01 2001",
    "dob.12/1/01",
    "born 1985",
    "DOB 19850314",
]
DOB_CONTEXT = ["{d}", "pts home {d}", "{d} o/s Revs", "unk ({d})", "queen st, {d}"]
NAMES = [
    ("my mate Dave", "Dave"),
    ("fight with Cerys Lewis", "Cerys Lewis"),
    ("bf Liam Howells", "Liam Howells"),
    ("partner (Nia)", "Nia"),
    ("Meirion ap Rhys", "Meirion|Rhys"),
    ("assaulted by Llŷr Evans", "Llŷr Evans"),
    ("hit by Siôn Roberts o/s club", "Siôn Roberts"),
    ("assaulted by john smith", "john smith"),
    ("hit by Gareth and Rhodri Price", "Gareth|Rhodri Price"),
    ("Dafydd Jones and Ffion Williams", "Dafydd Jones|Ffion Williams"),
    ("ex Kayleigh Morgan at her flat", "Kayleigh Morgan"),
    ("attacked by neighbour Steffan", "Steffan"),
    ("at Sioned's flat", "Sioned"),
    ("gf Megan Hughes", "Megan Hughes"),
    ("his brother Owain hit him", "Owain"),
    ("Mrs Pritchard's house", "Pritchard"),
    ("lives with Carys Rees", "Carys Rees"),
    ("Tomos ab Iorwerth", "Tomos|Iorwerth"),
    ("dad (Huw Parry)", "Huw Parry"),
    ("pt says Jac Thomas hit her", "Jac Thomas"),
    ("Aled punched him", "Aled"),
    ("hit by a male called Gethin", "Gethin"),
    ("known to pt - Bethan Davies", "Bethan Davies"),
    ("ex partner gethin rowlands", "gethin rowlands"),
    ("mate Rhodri's house", "Rhodri"),
    ("fight with cerys and her bf", "cerys"),
    ("assailant: Dylan Thomas", "Dylan Thomas"),
    ("Elin James hit pt with bottle", "Elin James"),
    ("at Nain's - Angharad Lloyd", "Angharad Lloyd"),
    ("pt and Rhys Pumphrey", "Rhys Pumphrey"),
    ("Male (Rhys Pumphrey)", "Rhys Pumphrey"),
    ("punched by Connor O'Brien", "Connor O'Brien"),
    ("Kyle McCarthy & Jordan Price", "Kyle McCarthy|Jordan Price"),
    ("step dad Mark Evans", "Mark Evans"),
    ("ex bf Ryan", "Ryan"),
    ("hit by her husband, Paul Williams", "Paul Williams"),
    ("assaulted by Mr Jones", "Jones"),
    ("pts brother Iestyn", "Iestyn"),
    ("brawd Ioan", "Ioan"),
    ("ffrind Osian Parry", "Osian Parry"),
    ("cariad Lowri", "Lowri"),
    ("fight w/ Tyler", "Tyler"),
    ("with Jade and Chantelle", "Chantelle"),
    ("SARAH JONES", "SARAH JONES"),
    ("sarah jones house", "sarah jones"),
    ("Cai Wyn Davies punched pt", "Cai|Davies"),
    ("Gwenllian ferch Dafydd", "Gwenllian|Dafydd"),
    ("by Sian Evans outside Revs", "Sian Evans"),
    ("assaulted by Leanne", "Leanne"),
    ("stranger - later ID'd as Dean Harris", "Dean Harris"),
    ("Zoe Phillips' flat", "Zoe Phillips"),
    ("hit by Mohammed Ali at work", "Mohammed"),
    ("ex-partner Tomasz Nowak", "Tomasz Nowak"),
    ("neighbour (mrs hughes)", "hughes"),
    ("his gf Chloe", "Chloe"),
    ("fight between Callum and Jake", "Callum|Jake"),
    ("Siân Prosser hit her", "Siân Prosser"),
    ("friend of Emyr Bowen", "Emyr Bowen"),
    ("Iwan's mum hit pt", "Iwan"),
    ("in car with Bradley Hopkins", "Bradley Hopkins"),
    ("attacked by Daniel Griffiths and friend", "Daniel Griffiths"),
    ("Lisa Watkins house party", "Lisa Watkins"),
    ("bouncer (Steve) at club", "Steve"),
    ("hit by landlord Geraint Morgan", "Geraint Morgan"),
    ("pt's ex Shannon Evans", "Shannon Evans"),
    ("brother in law - Craig Powell", "Craig Powell"),
    ("Gruff Rhys punched him", "Gruff|Rhys"),
    ("at Nathan's", "Nathan"),
    ("assaulted by his cousin Ieuan Bevan", "Ieuan Bevan"),
    ("known male, Luke", "Luke"),
    ("lodger Wayne Pugh", "Wayne Pugh"),
    ("Jessica & Amber (friends)", "Jessica|Amber"),
    ("fight w Dewi Llewellyn", "Dewi Llewellyn"),
    ("rhodri price and his mate", "rhodri price"),
    ("Kieran Vaughan hit him", "Kieran Vaughan"),
    ("Ellie-May Jenkins", "Ellie-May Jenkins"),
    ("pt + partner Hannah", "Hannah"),
    ("aunt Gwyneth Parri", "Gwyneth Parri"),
    ("Llywelyn ap Gruffydd hit him", "Llywelyn|Gruffydd"),
    ("Ms Evans (teacher)", "Evans"),
    ("DC Williams attended", "Williams"),
    ("son Tyler-James", "Tyler-James"),
    ("gethin punched him", "gethin"),
    ("Steffan Rhys Hughes", "Steffan|Hughes"),
    ("with Ffion, Nia and Seren", "Ffion|Nia|Seren"),
    ("assailant is Becky Morris", "Becky Morris"),
    ("hit by ex husband Darren", "Darren"),
    ("Joshua Edwards and Ethan Edwards", "Joshua|Ethan|Edwards"),
    ("his mate Gaz", "Gaz"),
    ("tad Huw", "Huw"),
    ("mam Eirlys", "Eirlys"),
    ("pt's mum, Sandra Price", "Sandra Price"),
    ("taken home by Lee Jenkins", "Lee Jenkins"),
    ("fight with chloe and ffion", "chloe|ffion"),
]
HOUSE = [
    ("14 Heol y Nant", "14"),
    ("3 Clos Hafod", "3"),
    ("22 Lôn y Dail", "22"),
    ("7 Ffordd Las", "7"),
    ("5a Maes y Coed", "5a"),
    ("12 Stryd Fawr", "12"),
    ("flat 3, 27 Clifton Street", "3|27"),
    ("101 Cathays Terrace", "101"),
    ("no. 9 Heol Hir", "9"),
    ("32b Richmond Road", "32b"),
    ("6 Cilgant y Lein", "6"),
    ("18 Rhodfa Sweldon", "18"),
    ("4 Teras Glanrafon", "4"),
    ("45 Penylan Rd", "45"),
    ("2 Llys Tripp", "2"),
    ("19 Heol Llanishen Fach", "19"),
    ("88 Ffordd yr Afon", "88"),
    ("11 Lon Ddu", "11"),
    ("7, Clos y Gof", "7"),
    ("63 Wellfield Rd", "63"),
    ("9 Ty Gwyn Road", "9"),
    ("120 Cowbridge Road East", "120"),
    ("16 Plas Newydd", "16"),
    ("3 Maes Glas", "3"),
    ("27 Heol-y-Felin", "27"),
    ("14 heol y nant", "14"),
    ("5 Llwyn y Grant Road", "5"),
    ("33 Albany Road", "33"),
    ("2 Gerddi Hywel", "2"),
    ("41 Cae Glas", "41"),
    ("10 Parc y Bryn", "10"),
    ("8 Bryn Celyn", "8"),
    ("21 Pen y Lan Terrace", "21"),
    ("flat 2b Stryd y Castell", "2b"),
    ("6 Heol Isaf", "6"),
    ("37 Lon y Parc", "37"),
    ("4 Rhes Gwalia", "4"),
]
HOUSE_CONTEXT = ["pts home {h}", "{h}", "at {h}", "home address {h}", "outside {h}", "cartref {h}"]
KEEP_HAND = [
    "by Wetherspoons",
    "by Clwb Ifor Bach",
    "by Owain Glyndwr",
    "by Cardiff Central",
    "Prince of Wales pub",
    "Miss Millies",
    "3 males on St Mary Street",
    "aged 23 outside Kings Road",
    "bus 61 on Cowbridge Road East",
    "around 2330 on City Road",
    "Other's home",
    "Patient's home",
    "Someone else's home",
    "Own home",
    "o/s Walkabout St Marys St",
    "by Queen Street",
    "by Cardiff Castle",
    "hit by the bar",
    "Lewis Arms",
    "friends house",
    "Mum's house",
    "Tiger Tiger's door",
    "2 lads outside Revolution",
    "approx 0200 Caroline Street",
    "Chippy Lane",
    "opp Howells",
    "nr John Lewis",
    "outside Greggs queen st",
    "at bus stop no 3 on Newport Road",
    "for 10 mins on Queen Street",
    "4 or 5 males in Mill Lane",
    "at 23:30 outside Dempseys",
    "in Bute Park near the castle",
    "taxi rank Greyfriars Road",
    "Walkabout St Mary St",
    "tu allan i Glwb Ifor Bach",
    "ger gorsaf Caerdydd Canolog",
    "yn y stryd",
    "ar Heol y Frenhines",
    "yn y dafarn",
    "tu allan i'r dafarn ar Stryd y Castell",
    "yng nghartref y claf",
    "ty ffrind",
    "Heol Eglwys Fair",
    "route 6 bus",
    "number 9 bus on Albany Road",
    "the 95 bus to Barry",
    "platform 7 Cardiff Central",
    "3rd floor Capitol Centre",
    "level 2 car park St Davids",
    "at home",
    "pts home",
    "partners home",
    "ex's flat",
    "house party",
    "unknown",
    "N/K",
    "nightclub",
    "Owain Glyndŵr",
    "Mochyn Du",
    "Goat Major",
    "Golden Cross",
    "The Philharmonic",
    "Kitty Flynns",
    "Cuba Revolution",
    "Live Lounge",
    "Brewhouse",
    "outside Pryzm",
    "Prince of Wales Wetherspoons St Mary St",
    "Sophia Gardens",
    "Cathays Park",
    "Principality Stadium gate 4",
    "Mermaid Quay",
    "Coal Exchange",
    "approx 2am Womanby Street",
    "2 females at Tesco City Road",
    "10 males outside KFC",
    "aged 16 near Roath Park lake",
    "about 5 of them on Crwys Road",
    "1 male at the Central Bar",
    "Miss Millie's City Road",
    "Clwb Ifor Bach Womanby St",
    "Cardiff Central station",
    "outside Spoons",
    "McDonalds Queen St",
    "Burger King St Mary Street",
    "Lloyds Bar",
    "outside the Owain Glyndwr",
    "Jumpin Jaks",
    "behind Cardiff Arms Park",
    "Llandaff Fields",
    "Victoria Park Canton",
    "Splott Park",
    "school yard",
    "at work - Tesco Extra",
    "Howells department store",
    "by the Millennium Centre",
    "under the bridge Penarth Road",
    "A470 layby",
    "M4 junction 32",
    "bus station",
    "in the Brewery Quarter",
    "St Mary Street",
    "Church Street",
    "Charles Street",
    "Mill Lane",
    "Windsor Place",
    "Richmond Road",
    "Albany Road",
    "Wellfield Road",
    "Cowbridge Road East",
    "Caroline Street",
    "Westgate Street",
    "Cathedral Road",
    "Newport Road",
]
KEEP_FORMS = [
    "{v}",
    "by {v}",
    "o/s {v}",
    "outside {v}",
    "in {v}",
    "nr {v}",
    "opp {v}",
    "at {v}",
    "3 males outside {v}",
    "approx 2330 at {v}",
    "aged 19 at {v}",
    "2 lads in {v}",
    "tu allan i {v}",
    "ger {v}",
    "yn {v}",
]
STREET_FORMS = [
    "on {s}",
    "{s}",
    "3 males on {s}",
    "bus 61 on {s}",
    "around 2330 on {s}",
    "in {s}",
    "aged 23 outside {s}",
    "by {s}",
    "for 20 mins on {s}",
    "ar {s}",
    "yn {s}",
    "at 0130 on {s}",
    "group of 6 on {s}",
    "junction of {s}",
    "near {s}",
]


def fsa_pubs(data: Path) -> list[str]:
    names = []
    for path in [
        data / "venues/fsa_food_hygiene_cardiff_2020-11.xml",
        data / "newport/fsa_food_hygiene_newport.xml",
        data / "swansea/fsa_food_hygiene_swansea.xml",
    ]:
        root = ET.parse(path).getroot()
        for item in root.iter("EstablishmentDetail"):
            if (item.findtext("BusinessTypeID") or "") == "7843":
                names.append((item.findtext("BusinessName") or "").strip())
    return sorted({n for n in names if n})


def police_streets(data: Path) -> list[str]:
    streets = set()
    for path in sorted((data / "police_uk").glob("*.csv")):
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                where = row["Location"].removeprefix("On or near ").strip()
                if where and where != "No Location" and any(c.islower() for c in where):
                    streets.add(where)
    return sorted(streets)


def build(data: Path) -> list[tuple[str, str, str, str]]:
    rng = random.Random(SEED)
    rows: list[tuple[str, str, str, str]] = []
    for i in range(60):
        valid = i % 4 != 3
        digits = nhs(rng, valid)
        a, b, c = digits[:3], digits[3:6], digits[6:]
        form = NHS_FORMS[i % len(NHS_FORMS)]
        written = form.format(
            a=a,
            b=b,
            c=c,
            d4=digits[:4],
            d3=digits[4:7],
            d3b=digits[7:],
            pairs=" ".join(digits[j : j + 2] for j in range(0, 10, 2)),
            spaced=" ".join(digits),
        )
        text = NHS_CONTEXT[(i * 7) % len(NHS_CONTEXT)].format(n=written)
        rows.append(("nhs_number", text, digits, ""))
    for i, phone in enumerate(PHONES):
        for j in (0, 1):
            context = PHONE_CONTEXT[(i * 3 + j * 5) % len(PHONE_CONTEXT)]
            rows.append(("phone", context.format(p=phone), _phone_secret(phone), ""))
    for i, (email, local) in enumerate(EMAILS):
        for j in (0, 1):
            context = EMAIL_CONTEXT[(i + j * 2) % len(EMAIL_CONTEXT)]
            rows.append(("email", context.format(e=email), local, ""))
    for i, (code, secret) in enumerate(POSTCODES):
        for j in (0, 1):
            context = POSTCODE_CONTEXT[(i + j * 3) % len(POSTCODE_CONTEXT)]
            rows.append(("postcode", context.format(c=code), secret, ""))
    for i, dob in enumerate(DOBS):
        for j in (0, 1):
            context = DOB_CONTEXT[(i + j * 2) % len(DOB_CONTEXT)]
            rows.append(("date_of_birth", context.format(d=dob), _dob_secret(dob), ""))
    for text, secret in NAMES:
        rows.append(("name", text, secret, ""))
    for i, (house, secret) in enumerate(HOUSE):
        context = HOUSE_CONTEXT[i % len(HOUSE_CONTEXT)]
        street = house.split(" ", 1)[1] if not house.startswith(("flat", "no.")) else ""
        rows.append(("house_number", context.format(h=house), secret, street.lstrip(", ")))
    for text in KEEP_HAND:
        rows.append(("keep", text, "", text))
    pubs = fsa_pubs(data)
    streets = police_streets(data)
    for i, pub in enumerate(rng.sample(pubs, 150)):
        rows.append(("keep", KEEP_FORMS[i % len(KEEP_FORMS)].format(v=pub), "", ""))
    for i, street in enumerate(rng.sample(streets, 150)):
        rows.append(("keep", STREET_FORMS[i % len(STREET_FORMS)].format(s=street), "", ""))
    return [(k, t, s, keep or (t if k == "keep" else "")) for k, t, s, keep in rows]


def _phone_secret(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-6:]  # the subscriber part: what must not survive


def _dob_secret(dob: str) -> str:
    tail = dob.split(None, 1)[1] if " " in dob else dob
    for cue in ("of birth:", "of birth", "geni", "on"):
        tail = tail.removeprefix(cue).strip()
    return tail.lstrip(":=.- ")


if __name__ == "__main__":
    built = build(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
    with open(OUT, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["kind", "text", "secrets", "keep"])
        writer.writerows(built)
    print(f"{len(built)} rows -> {OUT}")
