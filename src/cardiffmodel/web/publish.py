"""Counts as the figures a view may publish: suppressed for audiences outside health.

Every count leaving the server is a cell ``{"value": int | None, "shown": str}``; a hidden
count has no value at all, so no page, script or export can reveal it by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from cardiffmodel.disclosure import Cell, suppress_counts, suppress_rate, suppress_table
from cardiffmodel.web.access import View


def cell_json(cell: Cell) -> dict:
    return {"value": cell.value, "shown": cell.shown}


def _open(n: int) -> Cell:
    return Cell(int(n), f"{int(n):,}")


def _grouped(cell: Cell) -> Cell:
    """A shown count with thousands separators, as unsuppressed counts are written."""
    return cell if cell.value is None else replace(cell, shown=f"{cell.value:,}")


def publish_counts(counts: Sequence[int], view: View) -> tuple[list[Cell], Cell]:
    """A list of counts that sum to a total (areas, months, codes) and that total."""
    if not view.suppressed:
        return [_open(n) for n in counts], _open(sum(counts))
    result = suppress_counts([int(n) for n in counts], threshold=view.threshold)
    return [_grouped(c) for c in result.cells], _grouped(result.total)


def publish_table(
    matrix: Sequence[Sequence[int]], rows: Sequence[str], columns: Sequence[str], view: View
) -> tuple[list[list[Cell]], list[Cell]]:
    """A two-way table (such as month x source) and its row totals, protected together."""
    if not view.suppressed:
        return [[_open(n) for n in row] for row in matrix], [_open(sum(row)) for row in matrix]
    result = suppress_table(matrix, list(rows), list(columns), threshold=view.threshold)
    cells = [[_grouped(c) for c in row] for row in result.cells]
    return cells, [_grouped(c) for c in result.row_totals]


def publish_rate(cell: Cell, rate: float | None) -> str:
    """A rate shown only beside a shown count (a rate over residents gives its count back)."""
    return suppress_rate(cell, rate)


def publish_change(now: Cell, before: Cell) -> int | None:
    """The change between two periods, only when both counts are shown."""
    if now.value is None or before.value is None:
        return None
    return now.value - before.value
