"""Small-number suppression: hand-worked cases, real police.uk counts, and random tables.

Protection is checked with the attacker's own tool (``recover_bounds``, linear programming)
and, on tables small enough, by brute-force enumeration that shares no code with it.
"""

import copy
import csv
import itertools
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardiffmodel.disclosure import (
    AUDIENCES,
    SECONDARY,
    SUPPRESSED,
    Cell,
    SuppressedCounts,
    SuppressedTable,
    needs_suppression,
    recover_bounds,
    suppress_counts,
    suppress_rate,
    suppress_table,
)

POLICE_UK = Path("/work/shared/data/police_uk")
SMALL_HEAVY = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 40))


def shown(cells):
    return [cell.shown for cell in cells]


def shown_grid(table):
    return [shown(row) for row in table.grid]


def true_grid(matrix):
    """The matrix with row totals appended and the column totals as a last row."""
    body = [[*row, sum(row)] for row in matrix]
    return [*body, [sum(column) for column in zip(*body, strict=True)]]


def assert_protected(cells, truths, keys, bounds, threshold=5):
    """Every check a publisher needs; ``bounds`` is ``recover_bounds`` keyed like ``keys``."""
    assert set(bounds) == {key for key, cell in zip(keys, cells, strict=True) if cell.value is None}
    for cell, truth, key in zip(cells, truths, keys, strict=True):
        assert cell.primary >= (0 < truth < threshold), (key, truth, cell)
        if cell.value is None:
            low, high = bounds[key]
            assert low <= truth <= high, (key, truth, low, high)
            assert cell.primary or truth >= threshold  # what the "*" marker tells readers
            if cell.primary:
                assert cell.shown == f"<{threshold}"
            if 0 < truth < threshold:  # a hidden zero may be pinned: zeros may be shown
                assert low < high, f"{key}: attacker pins the hidden {truth}"
        else:
            assert cell.value == truth and cell.shown == str(truth)
            assert truth == 0 or truth >= threshold


def assert_no_line_gives_away_its_one_hidden_entry(line):
    """A line may have one hidden entry only when all else is 0 (so it is a hidden 0)."""
    hidden = [cell for cell in line if cell.value is None]
    assert len(hidden) != 1 or not any(cell.value for cell in line), line


# --- one-way lists ------------------------------------------------------------------------


def test_one_small_count_hides_the_next_smallest_so_the_total_cannot_reveal_it():
    table = suppress_counts([12, 3, 7, 0, 20])
    assert shown(table.cells) == ["12", SUPPRESSED, SECONDARY, "0", "20"]
    assert table.total == Cell(42, "42")
    # 3 + 7 = 10 is known, with the 3 in 1..4 and the 7 at least 5.
    assert recover_bounds(table) == {1: (1, 4), 2: (6, 9)}


def test_two_small_counts_whose_sum_pins_them_get_a_further_secondary():
    # Hiding only the 4s leaves 28 - 20 = 8 = 4 + 4: both pinned. The audit hides the 20.
    table = suppress_counts([4, 4, 20])
    assert shown(table.cells) == [SUPPRESSED, SUPPRESSED, SECONDARY]
    assert table.total.shown == "28"
    assert recover_bounds(table) == {0: (1, 4), 1: (1, 4), 2: (20, 26)}


def test_a_small_total_is_itself_suppressed_and_hides_the_zeros_under_it():
    table = suppress_counts([0, 3, 0])
    assert shown(table.cells) == [SUPPRESSED] * 3
    assert table.total == Cell(None, SUPPRESSED, primary=True)
    assert recover_bounds(table) == {0: (0, 4), 1: (0, 4), 2: (0, 4), 3: (1, 4)}


def test_four_ones_under_a_small_total_are_not_pinned():
    """Were "<5" known to mean 1-4, four of them summing to "<5" would each be 1."""
    matrix = [[1, 1, 1, 1], [9, 7, 6, 8], [5, 8, 0, 7]]
    table = suppress_table(matrix, ["a", "b", "c"], ["Oct", "Nov", "Dec", "Jan"])
    bounds = recover_bounds(table)
    assert shown(table.grid[0]) == [SUPPRESSED] * 5
    assert all(bounds[0, j][0] < bounds[0, j][1] for j in range(4))


def test_mapping_keeps_its_labels_and_large_counts_are_untouched():
    table = suppress_counts({"Cathays": 31, "Splott": 0, "Adamsdown": 9})
    assert table.labels == ("Cathays", "Splott", "Adamsdown")
    assert shown(table.cells) == ["31", "0", "9"]
    assert table.total == Cell(40, "40") and recover_bounds(table) == {}


def test_threshold_changes_the_marker_and_the_range():
    table = suppress_counts([7, 30, 12], threshold=10)
    assert shown(table.cells) == ["<10", "30", "*"]
    assert recover_bounds(table) == {0: (1, 9), 2: (10, 18)}


@settings(max_examples=80, deadline=None)
@given(st.lists(SMALL_HEAVY, min_size=1, max_size=6))
def test_random_lists_are_protected_and_never_mutated(counts):
    original = copy.deepcopy(counts)
    table = suppress_counts(counts)
    assert counts == original
    cells = [*table.cells, table.total]
    assert_protected(cells, [*counts, sum(counts)], range(len(cells)), recover_bounds(table))
    assert_no_line_gives_away_its_one_hidden_entry(cells)


# --- two-way tables -----------------------------------------------------------------------


def test_hand_worked_table_hides_a_cycle_of_four():
    matrix = [[10, 2, 8], [6, 7, 9], [5, 0, 12]]
    table = suppress_table(matrix, ["a", "b", "c"], ["Mon", "Tue", "Wed"])
    assert shown_grid(table) == [
        ["10", "<5", "*", "20"],
        ["6", "*", "*", "22"],
        ["5", "0", "12", "17"],
        ["21", "9", "29", "59"],
    ]
    # x(a,Tue) = 2 + t, x(a,Wed) = 8 - t, x(b,Tue) = 7 - t, x(b,Wed) = 9 + t, with the
    # "<5" cell in 1..4 and the "*" cells at least 5: t runs from -1 to 2.
    assert recover_bounds(table) == {
        (0, 1): (1, 4),
        (0, 2): (6, 9),
        (1, 1): (5, 8),
        (1, 2): (8, 11),
    }
    assert table.cells[0][1].primary and table.cells[1][2].secondary


def test_small_row_column_and_grand_totals_are_suppressed_with_their_zeros():
    matrix = [[0, 3], [0, 0]]
    table = suppress_table(matrix, ["a", "b"], ["x", "y"])
    # Row a, column y and the totals all sum to 3: every zero in them reads "<5" too.
    assert shown_grid(table) == [["<5", "<5", "<5"], ["0", "<5", "<5"], ["<5", "<5", "<5"]]
    assert table.row_totals[0].primary and table.grand_total.primary
    keys = list(itertools.product(range(3), range(3)))
    truths = [true_grid(matrix)[i][j] for i, j in keys]
    assert_protected([table.grid[i][j] for i, j in keys], truths, keys, recover_bounds(table))


def test_unprotected_table_is_caught_by_the_attacker():
    """The attacker's tool does find a count a naive publisher gives away."""
    hidden, five = Cell(None, SUPPRESSED, primary=True), Cell(5, "5")
    naive = SuppressedTable(
        row_labels=("a", "b"),
        col_labels=("x", "y"),
        cells=((hidden, five), (hidden, five)),
        row_totals=(Cell(9, "9"), Cell(9, "9")),
        col_totals=(Cell(8, "8"), Cell(10, "10")),
        grand_total=Cell(18, "18"),
    )
    assert recover_bounds(naive) == {(0, 0): (4, 4), (1, 0): (4, 4)}


def test_inconsistent_published_figures_are_reported():
    bad = SuppressedCounts(
        ("a", "b"), (Cell(None, SUPPRESSED, primary=True), Cell(9, "9")), Cell(30, "30")
    )
    with pytest.raises(ValueError, match="inconsistent"):
        recover_bounds(bad)


def violence_by_lsoa_and_month():
    counts = Counter()
    for path in sorted(POLICE_UK.glob("*-south-wales-street.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if row["LSOA name"].startswith("Cardiff") and row["Crime type"].startswith(
                    "Violence"
                ):
                    counts[row["LSOA name"], row["Month"]] += 1
    lsoas = sorted({lsoa for lsoa, _ in counts})
    months = sorted({month for _, month in counts})
    return [[counts[lsoa, month] for month in months] for lsoa in lsoas], lsoas, months


def test_real_cardiff_violence_by_lsoa_and_month_is_protected():
    matrix, lsoas, months = violence_by_lsoa_and_month()
    assert (len(lsoas), len(months)) == (214, 4)
    # The first 70 areas hold rows such as [4, 4, 4, 8] and [7, 6, 4, 4] that need the audit.
    matrix, lsoas = matrix[:70], lsoas[:70]
    table = suppress_table(matrix, lsoas, months)
    cells = [cell for row in table.grid for cell in row]
    truths = [v for row in true_grid(matrix) for v in row]
    keys = [divmod(k, len(months) + 1) for k in range(len(cells))]
    assert_protected(cells, truths, keys, recover_bounds(table))
    assert table.grand_total == Cell(sum(map(sum, matrix)), str(sum(map(sum, matrix))))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n_cols: st.lists(
            st.lists(SMALL_HEAVY, min_size=n_cols, max_size=n_cols), min_size=1, max_size=5
        )
    )
)
def test_random_tables_are_protected_and_never_mutated(matrix):
    original = copy.deepcopy(matrix)
    n_rows, n_cols = len(matrix), len(matrix[0])
    table = suppress_table(matrix, list(range(n_rows)), list(range(n_cols)))
    assert matrix == original
    grid = table.grid
    keys = list(itertools.product(range(n_rows + 1), range(n_cols + 1)))
    cells = [grid[i][j] for i, j in keys]
    truths = [truths[i][j] for truths in [true_grid(matrix)] for i, j in keys]
    assert_protected(cells, truths, keys, recover_bounds(table))
    lines = [list(row) for row in grid] + [list(column) for column in zip(*grid, strict=True)]
    for line in lines:
        assert_no_line_gives_away_its_one_hidden_entry(line)
        if all(cell.value is not None for cell in line):
            assert sum(cell.value for cell in line[:-1]) == line[-1].value


def brute_force_values(table, cap=40):
    """Every value each hidden entry of a 2 × 2 table can take, by enumeration (no LP).

    A "<5" may be 0 when it is a part of a row or column whose total reads "<5".
    """
    grid = table.grid

    def allowed(i, j):
        cell = grid[i][j]
        if cell.value is not None:
            return range(cell.value, cell.value + 1)
        if cell.secondary:
            return range(5, cap)
        maybe_zero = (j < 2 and grid[i][2].primary) or (i < 2 and grid[2][j].primary)
        return range(0 if maybe_zero else 1, 5)

    a, b, c, d = (
        x.ravel()
        for x in np.meshgrid(*(allowed(i, j) for i in (0, 1) for j in (0, 1)), indexing="ij")
    )
    full = [[a, b, a + b], [c, d, c + d], [a + c, b + d, a + b + c + d]]
    ok = np.ones(a.shape, dtype=bool)
    for i, j in itertools.product(range(3), range(3)):
        span = allowed(i, j)
        ok &= (full[i][j] >= span.start) & (full[i][j] < span.stop)
    return {
        (i, j): set(full[i][j][ok].tolist())
        for i, j in itertools.product(range(3), range(3))
        if grid[i][j].value is None
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 8), min_size=4, max_size=4))
def test_attacker_bounds_agree_with_brute_force_on_two_by_two_tables(values):
    matrix = [values[:2], values[2:]]
    table = suppress_table(matrix, ["a", "b"], ["x", "y"])
    bounds, truths = recover_bounds(table), true_grid(matrix)
    for (i, j), possible in brute_force_values(table).items():
        low, high = bounds[i, j]
        assert truths[i][j] in possible
        assert min(possible) == low
        assert max(possible) == high or high == math.inf
        if 0 < truths[i][j] < 5:
            assert len(possible) >= 2, f"{(i, j)} pinned by enumeration"


# --- inputs, rates and audiences ----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: suppress_counts([3, -1]), "count 1 is -1: expected a count of 0 or more"),
        (
            lambda: suppress_counts({"Splott": 2.5}),
            "count 'Splott' is 2.5: expected a whole number",
        ),
        (
            lambda: suppress_table([[1, 2], [3]], "ab", "xy"),
            r"row lengths \[2, 1\]: expected 2 rows of 2",
        ),
        (lambda: suppress_table([[1, "3"]], "a", "xy"), "row 'a', column 'y' is '3'"),
        (lambda: suppress_counts([3], threshold=0), "threshold 0: expected a whole number >= 1"),
        (lambda: needs_suppression("press"), "audience 'press': expected one of health, police"),
    ],
)
def test_bad_input_is_refused_with_a_message_saying_where(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_numpy_counts_are_accepted():
    table = suppress_table(np.array([[3, 9], [8, 6]]), ["a", "b"], ["x", "y"])
    assert table.cells[0][0].primary and isinstance(table.grand_total.value, int)


def test_rates_are_hidden_with_their_counts():
    table = suppress_counts([12, 3, 7])
    assert [suppress_rate(cell, 2.345) for cell in table.cells] == ["2.3", "-", "-"]
    assert suppress_rate(Cell(0, "0"), 0.0) == "0.0"
    assert suppress_rate(Cell(1234, "1234"), 1234.56, digits=2) == "1,234.56"
    assert suppress_rate(Cell(12, "12"), None) == "-"
    assert suppress_rate(Cell(12, "12"), float("nan")) == "-"


def test_only_health_sees_unsuppressed_figures():
    assert AUDIENCES == ("health", "police", "council", "partnership")
    assert [needs_suppression(a) for a in AUDIENCES] == [False, True, True, True]
