"""The "what works" section of a group's report: stored evaluations of the interventions
that touched the group's areas, so a group sees what was tried there and how it went.

Only results already stored by ``cardiff evaluate`` are shown; a report never refits a
model. An intervention counts as the group's when it is registered on the group's layer
and treats at least one of the group's areas.
"""

from __future__ import annotations

import duckdb

from cardiffmodel.config import GroupConfig
from cardiffmodel.store.interventions import WhatWorksRow, list_interventions, what_works

METHOD_LABELS = {
    "its": "Interrupted time series",
    "did": "Difference in differences",
    "synthetic_control": "Synthetic control",
    "combined": "All methods combined",
}


def group_results(con: duckdb.DuckDBPyConnection, group: GroupConfig) -> tuple[WhatWorksRow, ...]:
    """The stored results of interventions in ``group``'s areas (none without the tables)."""
    areas = set(group.areas)
    here = {
        i.name for i in list_interventions(con) if i.layer == group.layer and areas & set(i.areas)
    }
    return tuple(r for r in what_works(con) if r.intervention in here)


def rate_ratio_text(row: WhatWorksRow) -> str:
    """ "0.82 (0.70 to 0.95)"; "-" for the combined verdict, which has no single estimate."""
    if row.rate_ratio is None:
        return "-" if row.method == "combined" else "Not estimated"
    if row.low is None or row.high is None:
        return f"{row.rate_ratio:.2f}"
    return f"{row.rate_ratio:.2f} ({row.low:.2f} to {row.high:.2f})"
