"""Who may see what: the role rules of the data-sharing agreement, applied per request.

- health: its own organisation's record-level incidents (the sites it owns), and with
  ``scope=own`` unsuppressed figures of those sites; figures over everyone's data are
  suppressed, since they hold other organisations' records.
- police, council: aggregates only, always suppressed (``disclosure.py``).
- analyst (the partnership's analyst, who prepares the groups' reports under the
  agreement): unsuppressed aggregates of every source; no records.
- admin: accounts and the audit log; suppressed aggregates, no records.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardiffmodel.web.accounts import ROLES, User

EVERYONE = ROLES
HEALTH = ("health",)
ADMIN = ("admin",)
SCOPES = ("all", "own")


class AccessDenied(PermissionError):
    """The user's role may not have what was asked; the message says what is allowed."""


@dataclass(frozen=True)
class View:
    """The data one request is computed on and how its figures are published.

    Attributes
    ----------
    suppressed : bool
        Whether every count passes small-number suppression before it leaves the server.
    sites : frozenset of str or None
        Only incidents of these sites are counted; None for every site.
    threshold : int
        Counts below this are suppressed (cardiff.toml ``suppress_below``).
    """

    suppressed: bool
    sites: frozenset[str] | None
    threshold: int = 5

    @property
    def key(self) -> tuple:
        """What results depend on, so that users who see the same share cached answers."""
        return (self.suppressed, tuple(sorted(self.sites)) if self.sites is not None else None)


def view_for(user: User, scope: str, threshold: int) -> View:
    """The view a user gets for a scope (``all`` or, for health users, ``own``)."""
    if scope not in SCOPES:
        raise AccessDenied(f"scope {scope!r}: expected one of {', '.join(SCOPES)}")
    if scope == "own":
        if user.role != "health":
            raise AccessDenied("scope 'own' is for health users: it shows their own records")
        return View(suppressed=False, sites=user.sites, threshold=threshold)
    return View(suppressed=user.role != "analyst", sites=None, threshold=threshold)


def check_role(user: User, allowed: tuple[str, ...]) -> None:
    if user.role not in allowed:
        raise AccessDenied(f"this needs one of the roles {', '.join(allowed)}")
