"""The dashboard's filters (period, source, weapon, location type) as one value.

Period and sources become an analysis ``Selection``; weapon and location type narrow the
incidents table before any analysis sees it, so every analysis accepts them unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ibis

from cardiffmodel.analysis.selection import Selection, add_months, month_selection
from cardiffmodel.schema import LOCATION_TYPES, SOURCES, WEAPONS

PERIOD_MONTHS = (1, 3, 6, 12)
# No incident is older than ingest's earliest date; a period and its comparisons a year
# earlier must stay inside the calendar the date libraries handle.
FIRST_MONTH, LAST_MONTH = "1990-01", "2100-12"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Filters:
    """What the user asked to look at.

    Attributes
    ----------
    month : str
        ``"YYYY-MM"``, the last month of the period.
    months : int
        Length of the period in calendar months, ending with ``month`` (one of
        ``PERIOD_MONTHS``).
    sources : tuple of str
        Sources counted.
    weapon, location_type : str or None
        One code to keep, or None for all.
    """

    month: str
    months: int = 1
    sources: tuple[str, ...] = SOURCES
    weapon: str | None = None
    location_type: str | None = None

    def __post_init__(self) -> None:
        if not (
            isinstance(self.month, str)
            and _MONTH.match(self.month)
            and FIRST_MONTH <= self.month <= LAST_MONTH
        ):
            raise ValueError(
                f"month {self.month!r}: expected YYYY-MM from {FIRST_MONTH} to {LAST_MONTH}"
            )
        month_selection(self.month)
        if self.months not in PERIOD_MONTHS:
            raise ValueError(f"months {self.months}: expected one of {PERIOD_MONTHS}")
        if not self.sources or any(s not in SOURCES for s in self.sources):
            raise ValueError(f"source {self.sources!r}: expected some of {', '.join(SOURCES)}")
        if self.weapon is not None and self.weapon not in WEAPONS:
            raise ValueError(f"weapon {self.weapon!r}: expected one of {', '.join(WEAPONS)}")
        if self.location_type is not None and self.location_type not in LOCATION_TYPES:
            raise ValueError(
                f"location_type {self.location_type!r}: expected one of {', '.join(LOCATION_TYPES)}"
            )

    def selection(self, layer: str, areas: tuple[str, ...] | None = None) -> Selection:
        last = month_selection(self.month)
        return Selection(
            start=add_months(last.start, 1 - self.months),
            end=last.end,
            sources=self.sources,
            layer=layer,
            areas=areas,
        )

    def narrow(self, t: ibis.Table, sites: frozenset[str] | None) -> ibis.Table:
        """The incidents these filters (and a view's sites) keep, whatever the period."""
        conditions = []
        if sites is not None:
            conditions.append(t.site.isin(sorted(sites)))
        if self.weapon is not None:
            conditions.append(t.weapon == self.weapon)
        if self.location_type is not None:
            conditions.append(t.location_type == self.location_type)
        return t.filter(*conditions) if conditions else t

    def query(self) -> dict[str, str | int | list[str]]:
        """The filters as query parameters (for links and for the page's script)."""
        params: dict[str, str | int | list[str]] = {"month": self.month, "months": self.months}
        if self.sources != SOURCES:
            params["source"] = list(self.sources)
        if self.weapon:
            params["weapon"] = self.weapon
        if self.location_type:
            params["location_type"] = self.location_type
        return params
