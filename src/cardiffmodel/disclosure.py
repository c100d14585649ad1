"""Small-number suppression for every figure shown outside health.

The rule: a count from 1 to ``threshold - 1`` (1–4 by default) is never shown, and cannot be
worked out by subtraction from row or column totals.

Markers. Small counts (*primary* suppression) read ``"<5"``. Cells hidden only so that a total
cannot give a small count away (*secondary* suppression) read ``"*"``, the usual mark in UK
public-health tables. Two markers, because ``"<5"`` on a hidden 40 would tell a partnership
that a busy beat is quiet. The price is that a reader knows a ``"*"`` cell is at least
``threshold``; ``recover_bounds`` gives the attacker that knowledge, so protection is proven
against it.

Zeros are shown as ``0`` (readers expect them and a zero alone reveals nobody), with one
exception. Totals take part in suppression like any other cell, so a total of 1–4 is itself
``"<5"``; and in a row or column whose total is ``"<5"`` every zero reads ``"<5"`` too. Were
zeros always shown, a reader would know each ``"<5"`` is at least 1, and four of them under a
``"<5"`` total would have to be 1 each. So ``[0, 3 | 3]`` is published as ``[<5, <5 | <5]``.

Method. Each row and each column of a table, with its total, is a *line*: its parts sum to its
total. Primary cells are hidden; then, while some line has exactly one hidden entry, the
smallest shown non-zero entry of that line is hidden as well, preferring one that also closes
another such line. That rule alone is not enough (in ``[4, 4 | 8]`` two cells are hidden yet
both must be 4), so the pattern is then attacked with linear programming and any small count
pinned to one value gets another secondary, until none can be pinned.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from cardiffmodel.config import AUDIENCES

SUPPRESSED = "<5"
SECONDARY = "*"
NO_RATE = "-"

Line = tuple[tuple[int, ...], int]  # indices of a line's parts, index of their total


@dataclass(frozen=True)
class Cell:
    """One published figure: its value (None when hidden) and the text to print."""

    value: int | None
    shown: str
    primary: bool = False  # reads "<5": a count of 1-4, or a zero in a line with a "<5" total
    secondary: bool = False  # reads "*": at least 5, hidden so a total cannot reveal a "<5"


@dataclass(frozen=True)
class SuppressedCounts:
    """A one-way list (such as a ranking column) with its total, safe to publish."""

    labels: tuple[Hashable, ...]
    cells: tuple[Cell, ...]
    total: Cell
    threshold: int = 5


@dataclass(frozen=True)
class SuppressedTable:
    """A two-way table with row and column totals, safe to publish."""

    row_labels: tuple[Hashable, ...]
    col_labels: tuple[Hashable, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    col_totals: tuple[Cell, ...]
    grand_total: Cell
    threshold: int = 5

    @property
    def grid(self) -> tuple[tuple[Cell, ...], ...]:
        """The cells with each row's total appended and the column totals as a last row.

        ``recover_bounds`` keys its answer by (row, column) positions in this grid.
        """
        body = tuple((*row, total) for row, total in zip(self.cells, self.row_totals, strict=True))
        return (*body, (*self.col_totals, self.grand_total))


@dataclass(frozen=True)
class SuppressedFigures:
    """Figures of several linked tables of one publication, safe to publish together.

    ``lines`` are the sums the figures obey, each ``(parts, total)`` by key.
    """

    keys: tuple[Hashable, ...]
    cells: tuple[Cell, ...]
    lines: tuple[tuple[tuple[Hashable, ...], Hashable], ...]
    threshold: int = 5

    def __getitem__(self, key: Hashable) -> Cell:
        return self.cells[self.keys.index(key)]


def needs_suppression(audience: str) -> bool:
    """Whether an audience sees only suppressed aggregates.

    Health sees its own record-level data; police, councils and partnerships do not.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience {audience!r}: expected one of {', '.join(AUDIENCES)}")
    return audience != "health"


def suppress_counts(
    counts: Sequence[int] | Mapping[Hashable, int], threshold: int = 5
) -> SuppressedCounts:
    """Suppress a one-way list of counts and its total (labels are the keys or positions)."""
    _check_threshold(threshold)
    labels = tuple(counts) if isinstance(counts, Mapping) else tuple(range(len(counts)))
    raw = counts.values() if isinstance(counts, Mapping) else counts
    values = [_count(value, f"count {label!r}") for label, value in zip(labels, raw, strict=True)]
    values.append(sum(values))
    cells = _protect(values, [(tuple(range(len(labels))), len(labels))], threshold)
    return SuppressedCounts(labels, tuple(cells[:-1]), cells[-1], threshold)


def suppress_table(
    matrix: Sequence[Sequence[int]],
    row_labels: Sequence[Hashable],
    col_labels: Sequence[Hashable],
    threshold: int = 5,
) -> SuppressedTable:
    """Suppress a two-way table (e.g. hour × weekday, beat × month) with its totals."""
    _check_threshold(threshold)
    n_rows, n_cols = len(row_labels), len(col_labels)
    if len(matrix) != n_rows or any(len(row) != n_cols for row in matrix):
        shape = [len(row) for row in matrix]
        raise ValueError(f"table row lengths {shape}: expected {n_rows} rows of {n_cols} cells")
    body = [
        [_count(v, f"row {r!r}, column {c!r}") for c, v in zip(col_labels, row, strict=True)]
        for r, row in zip(row_labels, matrix, strict=True)
    ]
    col_totals = [sum(column) for column in zip(*body, strict=True)] if body else [0] * n_cols
    values = [v for row in body for v in (*row, sum(row))] + [*col_totals, sum(col_totals)]
    cells = _protect(values, _grid_lines(n_rows, n_cols), threshold)
    grid = [tuple(cells[i : i + n_cols + 1]) for i in range(0, len(cells), n_cols + 1)]
    return SuppressedTable(
        row_labels=tuple(row_labels),
        col_labels=tuple(col_labels),
        cells=tuple(row[:-1] for row in grid[:-1]),
        row_totals=tuple(row[-1] for row in grid[:-1]),
        col_totals=grid[-1][:-1],
        grand_total=grid[-1][-1],
        threshold=threshold,
    )


def suppress_linked(
    values: Mapping[Hashable, int],
    lines: Sequence[tuple[Sequence[Hashable], Hashable]],
    threshold: int = 5,
) -> SuppressedFigures:
    """Suppress figures that several tables of one publication share, all together.

    Tables protected one by one leak through what they share: a report's beat ranking,
    its weapon profile and its hour grid each add up to the same period total, and a
    cell hidden in one table can be worked out from another. ``values`` holds every
    published count by key (totals included); each line ``(parts, total)`` says that the
    parts add up to the total. The same rules as :func:`suppress_table` apply to the
    whole system. A figure in no line is protected like a lone count.
    """
    _check_threshold(threshold)
    keys = tuple(values)
    index = {key: k for k, key in enumerate(keys)}
    counts = [_count(values[key], f"figure {key!r}") for key in keys]
    checked: list[Line] = []
    for parts, total in lines:
        missing = [key for key in (*parts, total) if key not in index]
        if missing:
            raise ValueError(f"line to {total!r}: figures {missing} are not among the values")
        found = sum(counts[index[key]] for key in parts)
        if found != counts[index[total]]:
            raise ValueError(
                f"line to {total!r}: parts add up to {found}, expected {counts[index[total]]}"
            )
        checked.append((tuple(index[key] for key in parts), index[total]))
    cells = _protect(counts, checked, threshold) if keys else []
    return SuppressedFigures(
        keys=keys,
        cells=tuple(cells),
        lines=tuple((tuple(parts), total) for parts, total in lines),
        threshold=threshold,
    )


def suppress_rate(count_cell: Cell, rate: float | None, digits: int = 1) -> str:
    """The rate as text, or ``"-"`` when its count is hidden or there is no rate.

    A rate over a public denominator (residents) gives its count back, so a hidden count,
    primary or secondary, never has its rate shown.
    """
    if count_cell.value is None or rate is None or math.isnan(rate):
        return NO_RATE
    return f"{rate:,.{digits}f}"


def recover_bounds(
    table: SuppressedTable | SuppressedCounts | SuppressedFigures,
) -> dict[Hashable, tuple[float, float]]:
    """An attacker's tool: the tightest interval for each hidden entry given what is published.

    The attacker knows the shown values, that every line sums to its total, that ``"<5"``
    means 1 to ``threshold - 1`` (0 to ``threshold - 1`` in a line whose total reads ``"<5"``)
    and that ``"*"`` means at least ``threshold``. Each hidden
    entry is minimised and maximised by linear programming; the constraints form a network
    matrix, so these bounds are whole numbers and equal those of the integer problem. An
    upper bound may be infinite. Keys are (row, column) positions in ``table.grid`` for a
    table, positions for a one-way list (its total at ``len(table.cells)``), and the
    figures' own keys for linked figures.
    """
    if isinstance(table, SuppressedFigures):
        index = {key: k for k, key in enumerate(table.keys)}
        lines = [(tuple(index[p] for p in parts), index[total]) for parts, total in table.lines]
        found = _attack(list(table.cells), lines, table.threshold)
        return {table.keys[k]: interval for k, interval in found.items()}
    if isinstance(table, SuppressedCounts):
        n = len(table.cells)
        found = _attack([*table.cells, table.total], [(tuple(range(n)), n)], table.threshold)
        return dict(found)
    n_rows, n_cols = len(table.row_labels), len(table.col_labels)
    cells = [cell for row in table.grid for cell in row]
    found = _attack(cells, _grid_lines(n_rows, n_cols), table.threshold)
    return {divmod(k, n_cols + 1): interval for k, interval in found.items()}


def _check_threshold(threshold: int) -> None:
    if not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"suppression threshold {threshold!r}: expected a whole number >= 1")


def _count(value: object, where: str) -> int:
    """A count as a Python int; a negative or fractional count is a bug upstream."""
    try:
        count = operator.index(value)  # accepts numpy integers, refuses 2.5 and "3"
    except TypeError:
        raise ValueError(f"{where} is {value!r}: expected a whole number") from None
    if count < 0:
        raise ValueError(f"{where} is {count}: expected a count of 0 or more")
    return count


def _grid_lines(n_rows: int, n_cols: int) -> list[Line]:
    """Rows and columns of the (n_rows + 1) × (n_cols + 1) grid with totals, row-major."""
    w = n_cols + 1
    rows = [(tuple(i * w + j for j in range(n_cols)), i * w + n_cols) for i in range(n_rows + 1)]
    cols = [(tuple(i * w + j for i in range(n_rows)), n_rows * w + j) for j in range(w)]
    return rows + cols


def _protect(values: list[int], lines: list[Line], threshold: int) -> list[Cell]:
    """Hide small entries, then others, until no small entry can be pinned to one value."""
    small = {k for k, v in enumerate(values) if 0 < v < threshold}
    quiet = {k for parts, total in lines if total in small for k in parts if values[k] == 0}
    primary = small | quiet
    hidden = set(primary)
    members = [(*parts, total) for parts, total in lines]
    unsure = sorted(small)
    while True:
        _close_lines(values, members, hidden)
        cells = _publish(values, primary, hidden, threshold)
        # Hiding more only widens what the attacker must allow, so a proof of safety stands.
        unsure = _unproven(values, cells, lines, threshold, unsure)
        if not unsure:
            return cells
        # The pinned entry's line with the fewest hidden entries is most likely the culprit.
        near = sorted((m for m in members if unsure[0] in m), key=lambda m: len(hidden & {*m}))
        rank = {k: n for n, m in reversed(list(enumerate(near))) for k in m}
        candidates = [k for k, v in enumerate(values) if v > 0 and k not in hidden]
        if not candidates:
            raise RuntimeError(f"cannot protect entry {unsure[0]}: nothing left to hide")
        hidden.add(min(candidates, key=lambda k: (rank.get(k, len(near)), values[k], k)))


def _close_lines(values: list[int], members: list[tuple[int, ...]], hidden: set[int]) -> None:
    """Hide entries until no line has exactly one hidden entry, which its total would reveal.

    A line whose shown entries are all zero is left alone: its hidden entry can only be 0.
    """

    def exposed(line: tuple[int, ...]) -> bool:
        shown = [k for k in line if k not in hidden]
        return len(shown) == len(line) - 1 and any(values[k] for k in shown)

    while lines := [m for m in members if exposed(m)]:
        closes = Counter(k for m in lines for k in m)
        candidates = [k for k in lines[0] if k not in hidden and values[k] > 0]
        hidden.add(min(candidates, key=lambda k: (-closes[k], values[k], k)))


def _publish(values: list[int], primary: set[int], hidden: set[int], threshold: int) -> list[Cell]:
    def cell(k: int, value: int) -> Cell:
        if k in primary:
            return Cell(None, f"<{threshold}", primary=True)
        return Cell(None, SECONDARY, secondary=True) if k in hidden else Cell(value, str(value))

    return [cell(k, value) for k, value in enumerate(values)]


def _unproven(
    values: list[int], cells: list[Cell], lines: list[Line], threshold: int, unsure: list[int]
) -> list[int]:
    """The small entries not yet proven safe, starting with one the attacker pins; or [].

    Knowing the truth, one solution that moves an entry off it proves that entry safe, so
    most entries need no programme of their own.
    """
    hidden, program = _program(cells, lines, threshold)
    while unsure:
        k = unsure[0]
        for sign in (1, -1):
            x = _extreme(hidden, program, k, sign)[1]
            moved = {j for j, v in zip(hidden, x, strict=True) if abs(v - values[j]) > 0.5}
            unsure = [j for j in unsure if j not in moved]
            if k in moved:
                break
        else:
            return unsure
    return []


def _attack(cells: list[Cell], lines: list[Line], threshold: int) -> dict[int, tuple[float, float]]:
    """Min and max of each hidden entry consistent with everything published."""
    hidden, program = _program(cells, lines, threshold)
    return {
        k: (_extreme(hidden, program, k, 1)[0], _extreme(hidden, program, k, -1)[0]) for k in hidden
    }


def _program(cells: list[Cell], lines: list[Line], threshold: int) -> tuple[list[int], dict]:
    """The hidden entries and the linear constraints an attacker knows they satisfy."""
    hidden = [k for k, cell in enumerate(cells) if cell.value is None]
    column = {k: n for n, k in enumerate(hidden)}
    a_eq, b_eq = [], []
    for parts, total in lines:
        row, rhs = np.zeros(len(hidden)), 0
        for k, sign in [*((p, 1) for p in parts), (total, -1)]:
            if cells[k].value is None:
                row[column[k]] += sign
            else:
                rhs -= sign * cells[k].value
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    maybe_zero = {k for parts, total in lines if cells[total].primary for k in parts}
    limits = [
        (int(k not in maybe_zero), threshold - 1) if cells[k].primary else (threshold, None)
        for k in hidden
    ]
    return hidden, {"A_eq": a_eq or None, "b_eq": b_eq or None, "bounds": limits}


def _extreme(hidden: list[int], program: dict, k: int, sign: int) -> tuple[float, np.ndarray]:
    """The min (sign 1) or max (sign -1) of entry k, and a solution that reaches it."""
    objective = np.zeros(len(hidden))
    objective[hidden.index(k)] = sign
    result = linprog(objective, method="highs", **program)
    if result.status == 3:  # unbounded, which only a maximum can be
        return math.inf, np.full(len(hidden), math.nan)
    if result.status != 0:
        raise ValueError(f"published figures are inconsistent: {result.message}")
    return float(round(sign * result.fun)), result.x
