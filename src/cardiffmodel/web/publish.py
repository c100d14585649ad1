"""Counts as the figures a view may publish: suppressed for audiences outside health.

Every count leaving the server is a cell ``{"value": int | None, "shown": str}``; a hidden
count has no value at all, so no page, script or export can reveal it by accident. A count
of a period the sources do not hold has no value either and reads "not held".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from cardiffmodel.disclosure import Cell, suppress_counts, suppress_rate, suppress_table
from cardiffmodel.reports.published import NOT_HELD
from cardiffmodel.web.access import View

# A count of a period the sources do not hold: no value, and not a count of zero.
NOT_HELD_CELL = Cell(None, NOT_HELD)


def cell_json(cell: Cell) -> dict:
    return {"value": cell.value, "shown": cell.shown}


def _open(n: int) -> Cell:
    return Cell(int(n), f"{int(n):,}")


def _grouped(cell: Cell) -> Cell:
    """A shown count with thousands separators, as unsuppressed counts are written."""
    return cell if cell.value is None else replace(cell, shown=f"{cell.value:,}")


def publish_counts(counts: Sequence[int | None], view: View) -> tuple[list[Cell], Cell]:
    """A list of counts that sum to a total (areas, months, codes) and that total.

    A count None is not held: it reads "not held", is no count, and stays out of
    suppression; the total is of the held counts ("not held" when none is).
    """
    held = [int(n) for n in counts if n is not None]
    if not held:
        return [NOT_HELD_CELL for _ in counts], NOT_HELD_CELL
    if not view.suppressed:
        cells, total = [_open(n) for n in held], _open(sum(held))
    else:
        result = suppress_counts(held, threshold=view.threshold)
        cells, total = [_grouped(c) for c in result.cells], _grouped(result.total)
    found = iter(cells)
    return [NOT_HELD_CELL if n is None else next(found) for n in counts], total


def publish_table(
    matrix: Sequence[Sequence[int | None]],
    rows: Sequence[str],
    columns: Sequence[str],
    view: View,
) -> tuple[list[list[Cell]], list[Cell]]:
    """A two-way table (such as month x source) and its row totals, protected together.

    A count None is not held: it reads "not held" and stays out of suppression, and so
    does the total of its row. The rows held throughout are protected as one table; a
    held count in a row with a gap adds up to nothing published, so it is protected as
    a lone count.
    """
    cells = [[NOT_HELD_CELL for _ in columns] for _ in matrix]
    totals = [NOT_HELD_CELL for _ in matrix]
    keep_cols = [j for j in range(len(columns)) if any(r[j] is not None for r in matrix)]
    full = [
        i for i, r in enumerate(matrix) if keep_cols and all(r[j] is not None for j in keep_cols)
    ]
    if full:
        sub = [[int(matrix[i][j]) for j in keep_cols] for i in full]
        if not view.suppressed:
            inner = [[_open(n) for n in row] for row in sub]
            inner_totals = [_open(sum(row)) for row in sub]
        else:
            result = suppress_table(
                sub, [rows[i] for i in full], [columns[j] for j in keep_cols], view.threshold
            )
            inner = [[_grouped(c) for c in row] for row in result.cells]
            inner_totals = [_grouped(c) for c in result.row_totals]
        for i, row, total in zip(full, inner, inner_totals, strict=True):
            for j, cell in zip(keep_cols, row, strict=True):
                cells[i][j] = cell
            totals[i] = total
    for i, row in enumerate(matrix):
        if i not in full:
            for j, n in enumerate(row):
                if n is not None:
                    cells[i][j] = publish_counts([n], view)[0][0]
    return cells, totals


def publish_rate(cell: Cell, rate: float | None) -> str:
    """A rate shown only beside a shown count (a rate over residents gives its count back)."""
    return suppress_rate(cell, rate)


def publish_change(now: Cell, before: Cell) -> int | None:
    """The change between two periods, only when both counts are shown."""
    if now.value is None or before.value is None:
        return None
    return now.value - before.value
