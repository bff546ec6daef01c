"""Small-cell suppression of a table with its totals, complementary suppression included
(issue #9 item 4; DESIGN.md "Data and privacy": aggregates that leave a unit suppress counts
below a threshold, default 5). Pure: no Django.

A published table is its cells, the row totals, the column totals and the grand total. Hiding
only the small cells (primary suppression) is not enough: a row with one hidden cell gives it
away by subtraction from the row total. So every hidden small count is put on a hidden
*rectangle* — itself, one more cell in its row, one more in its column, and the cell where those
meet — in the table extended by its totals (the totals are its last row and column). Along a
rectangle the four values can move by +1/−1 (signs flipped for totals) without changing any
published number, so a hidden count always has at least two values consistent with everything
shown (the "hypercube" method for two-dimensional tables: Giessing & Repsilber, *Tools and
strategies to protect multiple tables with the GHQUAR cell suppression engine*, 2002; Hundepool
et al., *Statistical Disclosure Control*, Wiley 2012, §4.3). Among the possible rectangles the
one hiding the least (smallest sum of newly hidden values) is chosen.

A zero is shown as zero (a structural fact, not a person); a count of 1…threshold−1 is hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

Entry = tuple[int, int]


@dataclass(frozen=True)
class Published:
    """What may be shown: ``None`` where a number is hidden (shown as "<5")."""

    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    total: int | None


def _extended(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    rows = [[*list(r), sum(r)] for r in cells]
    columns = [sum(r[j] for r in rows) for j in range(len(rows[0]))]
    return [*rows, columns]


def _moves(grid: list[list[int]], rect: tuple[int, int, int, int]) -> bool:
    """Can the rectangle's four values move by +1 or by −1 and all stay ≥ 0?"""
    i, j, i2, j2 = rect
    m, n = len(grid) - 1, len(grid[0]) - 1

    def sign(r: int, c: int) -> int:
        s = (1 if r == i else -1) * (1 if c == j else -1)
        return s * (-1 if r == m else 1) * (-1 if c == n else 1)

    corners = [(i, j), (i, j2), (i2, j), (i2, j2)]
    return any(all(grid[r][c] + t * sign(r, c) >= 0 for r, c in corners) for t in (1, -1))


def suppress_table(cells: Sequence[Sequence[int]], threshold: int = 5) -> Published:
    """Hide every count from 1 to ``threshold − 1`` among the cells and totals, and enough
    others that none of them can be worked out from what is shown."""
    if not cells or not cells[0]:
        return Published([], [], [], 0)
    if any(len(r) != len(cells[0]) for r in cells) or any(v < 0 for r in cells for v in r):
        raise ValueError("a table of non-negative counts with rows of equal length")
    grid = _extended(cells)
    height, width = len(grid), len(grid[0])
    small = {(r, c) for r, c in product(range(height), range(width)) if 0 < grid[r][c] < threshold}
    hidden: set[Entry] = set(small)
    protected: set[Entry] = set()
    for r, c in sorted(small, key=lambda e: (grid[e[0]][e[1]], e)):
        if (r, c) in protected:
            continue
        best: tuple[int, tuple[int, int, int, int]] | None = None
        for r2, c2 in product(range(height), range(width)):
            if r2 == r or c2 == c:
                continue
            rect = (r, c, r2, c2)
            if not _moves(grid, rect):
                continue
            corners = [(r, c2), (r2, c), (r2, c2)]
            cost = sum(grid[a][b] for a, b in corners if (a, b) not in hidden)
            if best is None or cost < best[0]:
                best = (cost, rect)
        if best is None:
            # No rectangle can move (e.g. a single row): hide the whole table.
            hidden = set(product(range(height), range(width)))
            break
        _cost, (_r, _c, r2, c2) = best
        corners = [(r, c), (r, c2), (r2, c), (r2, c2)]
        hidden.update(corners)
        protected.update(e for e in corners if e in small)

    def shown(r: int, c: int) -> int | None:
        return None if (r, c) in hidden else grid[r][c]

    m, n = height - 1, width - 1
    return Published(
        cells=[[shown(r, c) for c in range(n)] for r in range(m)],
        row_totals=[shown(r, n) for r in range(m)],
        column_totals=[shown(m, c) for c in range(n)],
        total=shown(m, n),
    )
