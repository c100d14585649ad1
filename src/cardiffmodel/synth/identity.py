"""Fake personal identifiers for the extracts, so ingest has real-looking data to strip.

Names are common Welsh and British names; NHS numbers are in the 999 range the NHS keeps
for testing and carry a valid modulus-11 check digit; telephone numbers are in the Ofcom
range reserved for drama (07700 900000-900999), so none of them can reach a real person.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

MALE_FIRST = (
    "Aled",
    "Bryn",
    "Callum",
    "Dafydd",
    "Daniel",
    "Dylan",
    "Gareth",
    "Gethin",
    "Huw",
    "Iwan",
    "Jack",
    "James",
    "Jamie",
    "Jordan",
    "Kieran",
    "Liam",
    "Luke",
    "Matthew",
    "Michael",
    "Owain",
    "Rhys",
    "Ryan",
    "Sion",
    "Steffan",
    "Thomas",
    "Tom",
    "Tyler",
    "Connor",
    "Mohammed",
    "Adam",
)
FEMALE_FIRST = (
    "Amy",
    "Bethan",
    "Carys",
    "Chloe",
    "Ceri",
    "Cerys",
    "Elin",
    "Ffion",
    "Gemma",
    "Hannah",
    "Jessica",
    "Katie",
    "Lauren",
    "Lowri",
    "Megan",
    "Nia",
    "Rachel",
    "Rebecca",
    "Rhian",
    "Sara",
    "Seren",
    "Sian",
    "Sophie",
    "Zoe",
    "Emma",
    "Leah",
    "Aisha",
    "Olivia",
    "Ella",
    "Mia",
)
SURNAMES = (
    "Jones",
    "Davies",
    "Williams",
    "Evans",
    "Thomas",
    "Roberts",
    "Hughes",
    "Lewis",
    "Morgan",
    "Griffiths",
    "Price",
    "Smith",
    "Phillips",
    "Rees",
    "James",
    "Edwards",
    "Jenkins",
    "Owen",
    "Powell",
    "Richards",
    "Harris",
    "Morris",
    "Watkins",
    "Lloyd",
    "Bowen",
    "Pritchard",
    "Walsh",
    "Khan",
    "Ahmed",
    "Ali",
    "O'Brien",
    "Murphy",
    "Taylor",
    "Brown",
    "Wilson",
)
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def full_name(rng: np.random.Generator, sex: str) -> str:
    first = MALE_FIRST if sex == "male" else FEMALE_FIRST
    return f"{first[rng.integers(len(first))]} {SURNAMES[rng.integers(len(SURNAMES))]}"


def nhs_check_digit(nine: str) -> int | None:
    """Modulus-11 check digit of the first nine digits, or None when no number is valid."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def nhs_number(rng: np.random.Generator) -> str:
    """A valid NHS number from the test range (starting 999)."""
    while True:
        nine = "999" + "".join(str(d) for d in rng.integers(0, 10, 6))
        check = nhs_check_digit(nine)
        if check is not None:
            return nine + str(check)


def spaced_nhs(number: str) -> str:
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def phone_number(rng: np.random.Generator) -> str:
    digits = f"{rng.integers(0, 1000):03d}"
    return f"07700 900{digits}" if rng.random() < 0.6 else f"07700900{digits}"


def postcode(rng: np.random.Generator, sector: str) -> str:
    """A full postcode in a real sector ('CF24 3' -> 'CF24 3QT')."""
    a, b = rng.choice(list(POSTCODE_UNIT_LETTERS), size=2)
    return f"{sector}{a}{b}"


def date_of_birth(rng: np.random.Generator, age: int, on: date) -> date:
    """A birthday that makes the person ``age`` years old on the given day."""
    latest = _years_before(on, age)
    return latest - timedelta(days=int(rng.integers(0, 365)))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
