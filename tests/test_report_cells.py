"""Small-cell suppression with complementary suppression (issue #9 item 4): what is shown never
lets a hidden small count be worked out — neither by subtraction along a row or column, nor by
any combination of the published totals (linear algebra), nor by trying every table that agrees
with what is shown."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinqiao.reports.cells import Published, suppress_table


def grid_of(p: Published) -> list[list[int | None]]:
    return [
        *([*row, t] for row, t in zip(p.cells, p.row_totals, strict=True)),
        [*p.column_totals, p.total],
    ]


def constraints(height: int, width: int) -> list[dict[tuple[int, int], int]]:
    """The extended table's equations: each row sums to its total, each column too."""
    m, n = height - 1, width - 1
    rows = [{**{(r, c): 1 for c in range(n)}, (r, n): -1} for r in range(height)]
    cols = [{**{(r, c): 1 for r in range(m)}, (m, c): -1} for c in range(width)]
    return rows + cols


def determined_by_linear_algebra(shown: list[list[int | None]], entry: tuple[int, int]) -> bool:
    """Is ``entry`` a linear combination of the published equations? (Gaussian elimination
    over the rationals on the hidden unknowns: the strongest attack without bounds.)"""
    height, width = len(shown), len(shown[0])
    unknowns = [(r, c) for r, c in product(range(height), range(width)) if shown[r][c] is None]
    index = {u: k for k, u in enumerate(unknowns)}
    rows = []
    for eq in constraints(height, width):
        vec = [Fraction(0)] * len(unknowns)
        for e, coef in eq.items():
            if e in index:
                vec[index[e]] += coef
        if any(vec):
            rows.append(vec)
    target = [Fraction(0)] * len(unknowns)
    target[index[entry]] = Fraction(1)
    # Row-reduce the equations, then reduce the target by them: zero → determined.
    basis: list[list[Fraction]] = []
    pivots: list[int] = []
    for vec in rows:
        v = vec[:]
        for b, p in zip(basis, pivots, strict=True):
            if v[p]:
                f = v[p] / b[p]
                v = [x - f * y for x, y in zip(v, b, strict=True)]
        lead = next((k for k, x in enumerate(v) if x), None)
        if lead is not None:
            basis.append(v)
            pivots.append(lead)
    t = target[:]
    for b, p in zip(basis, pivots, strict=True):
        if t[p]:
            f = t[p] / b[p]
            t = [x - f * y for x, y in zip(t, b, strict=True)]
    return not any(t)


def completions(shown: list[list[int | None]], bound: int) -> list[list[list[int]]]:
    """Every table of non-negative integers up to ``bound`` agreeing with what is shown: a
    search that fills an equation's last unknown by subtraction and branches otherwise."""
    height, width = len(shown), len(shown[0])
    equations = constraints(height, width)
    found: list[list[list[int]]] = []

    def solve(grid: list[list[int | None]]) -> None:
        for eq in equations:
            open_ = [e for e in eq if grid[e[0]][e[1]] is None]
            known = sum(grid[e[0]][e[1]] * k for e, k in eq.items() if e not in open_)
            if not open_:
                if known != 0:
                    return
            elif len(open_) == 1:
                (r, c) = open_[0]
                value = -known * eq[(r, c)]  # coefficients are ±1
                if not 0 <= value <= bound:
                    return
                grid = [row[:] for row in grid]
                grid[r][c] = value
                solve(grid)
                return
        blank = next(
            ((r, c) for r, c in product(range(height), range(width)) if grid[r][c] is None), None
        )
        if blank is None:
            found.append(grid)  # type: ignore[arg-type]
            return
        for value in range(bound + 1):
            branch = [row[:] for row in grid]
            branch[blank[0]][blank[1]] = value
            solve(branch)

    solve([row[:] for row in shown])
    return found


def test_a_lone_small_cell_takes_a_rectangle_with_it():
    published = suppress_table([[3, 20, 30], [40, 50, 60]])
    assert published.cells[0][0] is None
    # Its row total would give it away with one hidden cell: a second one in the row, one in
    # its column and the one where they meet are hidden too — the cheapest such rectangle.
    hidden = [(r, c) for r in range(2) for c in range(3) if published.cells[r][c] is None]
    assert len(hidden) == 4
    assert (0, 1) in hidden
    assert (1, 0) in hidden
    assert (1, 1) in hidden
    assert published.row_totals == [53, 150]
    assert published.total == 203


def test_zeros_and_large_counts_stay_and_nothing_is_hidden_without_need():
    published = suppress_table([[0, 12], [7, 0]])
    assert published.cells == [[0, 12], [7, 0]]
    assert published.total == 19


def test_a_small_total_is_hidden_as_well():
    published = suppress_table([[1, 2], [30, 40]])
    assert published.row_totals[0] is None  # 3 people in that row
    assert published.cells[0] == [None, None]


def test_a_one_row_table_hides_its_column_totals_with_the_cells():
    published = suppress_table([[2, 9]])
    assert published.cells == [[None, None]]
    assert published.column_totals == [None, None]


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="non-negative counts"):
        suppress_table([[1, 2], [3]])  # ragged
    with pytest.raises(ValueError, match="non-negative counts"):
        suppress_table([[-1, 2]])


small_tables = st.integers(min_value=1, max_value=3).flatmap(
    lambda h: st.integers(min_value=1, max_value=3).flatmap(
        lambda w: st.lists(
            st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 9, 14]), min_size=w, max_size=w),
            min_size=h,
            max_size=h,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(small_tables)
def test_no_hidden_small_count_can_be_recovered(cells):
    published = suppress_table(cells, threshold=5)
    shown = grid_of(published)
    truth = [*([*row, sum(row)] for row in cells), [sum(col) for col in zip(*cells, strict=True)]]
    truth[-1].append(sum(map(sum, cells)))
    for r, c in product(range(len(truth)), range(len(truth[0]))):
        value = truth[r][c]
        if 0 < value < 5:
            assert shown[r][c] is None, (r, c)  # primary suppression
            assert not determined_by_linear_algebra(shown, (r, c)), (cells, (r, c))
        elif shown[r][c] is not None:
            assert shown[r][c] == value  # what is shown is true


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0, 1, 2, 4, 6]), min_size=2, max_size=2), min_size=2, max_size=2
    )
)
def test_every_table_agreeing_with_what_is_shown_leaves_each_small_count_open(cells):
    published = suppress_table(cells, threshold=5)
    shown = grid_of(published)
    small = [
        (r, c)
        for r, c in product(range(3), range(3))
        if shown[r][c] is None
        and 0
        < (
            [
                *([*row, sum(row)] for row in cells),
                [sum(x) for x in zip(*cells, strict=True)] + [sum(map(sum, cells))],
            ][r][c]
        )
        < 5
    ]
    if not small:
        return
    tables = completions(shown, bound=sum(map(sum, cells)) + 2)
    for r, c in small:
        assert len({t[r][c] for t in tables}) >= 2, (cells, (r, c))
