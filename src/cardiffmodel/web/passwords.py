"""What a dashboard password must be: long, not blank, not a pattern, not a common one.

Length alone lets through twelve spaces, ``aaaaaaaaaaaa`` or ``password1234``. Following
NCSC and NIST SP 800-63B (length, a blocklist of common and guessable passwords, no
composition rules), a password is refused when it is shorter than 12 characters, blank or
with control characters, made of fewer than 5 different characters, one short piece
repeated (``abcabcabcabc``), a run of keys (``123456789012``), one of the 1,000 most
common passwords (SecLists' top 1,000 of the xato.net 10-million list, shipped beside
this module with its MIT licence), a common one padded with digits or symbols
(``password1234!``), or one containing the username.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib.resources import files

MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT = 5
_PADDING = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.DOTALL)


class WeakPassword(ValueError):
    """A password the rules refuse; the message says which rule, never the password."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = files("cardiffmodel.web").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _repeats_a_piece(word: str) -> bool:
    """True for a word that is one shorter piece said several times ("abcabc")."""
    return len(word) > 1 and word in (word + word)[1:-1]


_RUNS = ("0123456789" * 3, "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


def _is_a_run(word: str) -> bool:
    """True for keys or letters in a row, either way ("123456789012", "qwertyuiopas")."""
    return any(word in run or word in run[::-1] for run in _RUNS)


def check_password(password: str, username: str = "") -> None:
    """Raise ``WeakPassword`` naming the first rule ``password`` breaks."""
    if not password.strip():
        raise WeakPassword("password: expected some characters other than spaces")
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise WeakPassword("password: expected no control characters (tabs, NUL, line breaks)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password: expected at least {MIN_PASSWORD_LENGTH} characters")
    folded = password.casefold()
    if len(set(folded.replace(" ", ""))) < MIN_DISTINCT:
        raise WeakPassword(
            f"password: expected at least {MIN_DISTINCT} different characters, not a repeated one"
        )
    if _repeats_a_piece(folded):
        raise WeakPassword("password: expected more than one short piece repeated")
    common = common_passwords()
    core = _PADDING.match(folded).group(1)
    if folded in common or core in common or _is_a_run(folded):
        raise WeakPassword(
            "password: it is one of the most common passwords (or one with digits or "
            "symbols added); choose a few unrelated words"
        )
    if username and len(username) >= 3 and username.casefold() in folded:
        raise WeakPassword("password: expected not to contain the username")
