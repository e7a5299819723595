"""The shape of a statistics report, shared by what computes it (jusou.reports.statistics and the apps'
providers) and what renders it (the page, xlsx/CSV exports, the API).

A report holds only counts, never a person: each table is a title, column headings and labelled rows
of whole numbers (None where a figure does not apply). Each table also declares the relations its
figures obey — a total and its rows, a figure shown again in another table, 延べ = 新規 + 継続, a part
and its whole — because a reader can solve them for a hidden cell. When the report leaves the system
(exports, the API) `published()` hides small counts and, through those relations, every cell that
would give one back.
"""

import math
from dataclasses import dataclass, field, replace
from datetime import date

SUPPRESSED = "＊"


@dataclass
class Row:
    label: str
    values: list[int | float | None]


@dataclass(frozen=True)
class Ref:
    """A count cell named by a relation: a row — by its label, or by its position for rows made from a
    code list (their labels are data and may repeat) — and a column, in the declaring table or in the
    table of the same report titled `table`."""

    row: str | int
    column: int = 0
    table: str = ""


@dataclass(frozen=True)
class Relation:
    """Σ left = Σ right (Σ left ≤ Σ right when `at_most`), true of the raw figures."""

    left: tuple[Ref, ...]
    right: tuple[Ref, ...]
    at_most: bool = False


def _refs(cells) -> tuple[Ref, ...]:
    return tuple(cell if isinstance(cell, Ref) else Ref(cell) for cell in cells)


def adds_up(total, parts) -> Relation:
    """total = Σ parts; with one part, the same figure shown twice. A str or int names a row of the
    declaring table (column 0)."""
    return Relation(_refs([total]), _refs(parts))


def balances(left, right) -> Relation:
    """Σ left = Σ right: a stock and its flows (期間末 + 出 = 期首 + 入)."""
    return Relation(_refs(left), _refs(right))


def at_most(parts, whole) -> Relation:
    """Σ parts ≤ whole: a うち row and its row, or 実人数 + 匿名 within 件数."""
    return Relation(_refs(parts), _refs([whole]), at_most=True)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    #: 複数回答: the rows may add up to more than the total (課題分類 …)
    multiple_answers: bool = False
    note: str = ""
    #: every sum and bound the figures obey, within this table and with others of the report
    relations: list[Relation] = field(default_factory=list)


@dataclass
class Report:
    title: str
    date_from: date
    date_to: date
    #: what the figures cover, in words (e.g. 「みどり市全体」「みどり中央地域包括支援センター」「中央圏域」)
    coverage: str
    sections: list[tuple[str, list[Table]]] = field(default_factory=list)  # (事業, tables)

    def tables(self):
        for _, tables in self.sections:
            yield from tables


# --- Suppression -------------------------------------------------------------------------------------------

#: a count cell: (table, row, column), numbered in the report's order (which is also the tie-break)
Cell = tuple[int, int, int]


@dataclass(frozen=True)
class _Equation:
    """One relation over cell numbers: Σ coefficient·cell = 0 (≤ 0 when `at_most`), the left side's
    cells counted +1 and the right side's −1."""

    terms: tuple[tuple[Cell, int], ...]
    at_most: bool


def published(report: Report, threshold: int) -> Report:
    """The report as it may leave the system (DOMAIN.md §7: a small cell must not identify a person).

    Counts of 1..threshold-1 become ＊ (primary suppression). A reader knows every relation the tables
    declare and that a ＊ is at least 1 (a 0 is shown: it identifies nobody), so a ＊ the published
    figures pin to one value is no secret. Complementary suppression, repeated until nothing changes:
    a sum with a single ＊ (延べ 12 − 新規 10 = 継続) takes its smallest non-zero published count with it
    (ties: the earliest cell of the report); a ＊ that bounds propagation pins (＊s that can only all be
    1, a bound met exactly, a chain of sums) takes the smallest of a relation pinning it; and a ＊ with
    no witness — another solution of all the relations in which it differs — takes the smallest of its
    nearest relations. A rate beside a ＊ count is ＊: with the population known it gives the count
    back. Computed in Python on the finished tables: no queries."""
    tables = list(report.tables())
    counts = {
        (t, r, c): value
        for t, table in enumerate(tables)
        for r, row in enumerate(table.rows)
        for c, value in enumerate(row.values)
        if isinstance(value, int) and not isinstance(value, bool)
    }
    hidden = {cell for cell, value in counts.items() if 0 < value < threshold}
    if hidden:
        hidden = _complement(counts, _equations(tables, counts), hidden)
    sections, t = [], 0
    for name, section_tables in report.sections:
        out = []
        for table in section_tables:
            rows = []
            for r, row in enumerate(table.rows):
                values = [SUPPRESSED if (t, r, c) in hidden else v for c, v in enumerate(row.values)]
                if SUPPRESSED in values:
                    values = [SUPPRESSED if isinstance(v, float) else v for v in values]
                rows.append(Row(row.label, values))
            out.append(replace(table, rows=rows))
            t += 1
        sections.append((name, out))
    return replace(report, sections=sections)


def _equations(tables: list[Table], counts: dict[Cell, int]) -> list[_Equation]:
    """The declared relations over cell numbers. A relation naming a table, row or column that is not
    there, or a cell that is not a count, is a mistake in the declaring provider: ValueError."""
    titles: dict[str, int] = {}
    for t, table in enumerate(tables):
        if table.title in titles:
            raise ValueError(f"統計表の表題が重複しています: {table.title}")
        titles[table.title] = t

    def resolve(ref: Ref, t: int, relation: Relation) -> Cell:
        if ref.table:
            if ref.table not in titles:
                raise ValueError(f"{tables[t].title}: 関係式の表「{ref.table}」がありません ({relation})")
            t = titles[ref.table]
        rows = tables[t].rows
        if isinstance(ref.row, int):
            if not -len(rows) <= ref.row < len(rows):
                raise ValueError(f"{tables[t].title}: 関係式の行 {ref.row} がありません ({relation})")
            r = ref.row % len(rows)
        else:
            matches = [r for r, row in enumerate(rows) if row.label == ref.row]
            if len(matches) != 1:
                raise ValueError(
                    f"{tables[t].title}: 関係式の行「{ref.row}」が1つに決まりません ({relation})"
                )
            r = matches[0]
        if (t, r, ref.column) not in counts:
            raise ValueError(f"{tables[t].title}: 関係式のセル {ref} が件数ではありません ({relation})")
        return (t, r, ref.column)

    equations = []
    for t, table in enumerate(tables):
        for relation in table.relations:
            terms: dict[Cell, int] = {}
            for sign, side in ((1, relation.left), (-1, relation.right)):
                for ref in side:
                    cell = resolve(ref, t, relation)
                    terms[cell] = terms.get(cell, 0) + sign
            equations.append(_Equation(tuple((c, a) for c, a in terms.items() if a), relation.at_most))
    return equations


def _complement(counts: dict[Cell, int], equations: list[_Equation], hidden: set[Cell]) -> set[Cell]:
    """`hidden` grown until every ＊ has at least two values that fit all the relations (see published)."""
    hidden = set(hidden)
    by_cell: dict[Cell, list[int]] = {}
    for index, equation in enumerate(equations):
        for cell, _ in equation.terms:
            by_cell.setdefault(cell, []).append(index)
    free: set[Cell] = set()  # ＊s shown to have another value; hiding more cells keeps them so
    while True:
        # First the plain rule: a sum with a single ＊ gives it back, so it takes a second one.
        lone = next((e for e in equations if not e.at_most and _lone_star(e, counts, hidden)), None)
        if lone is not None:
            hidden.add(
                min(
                    (c for c, _ in lone.terms if c not in hidden and counts[c] > 0),
                    key=lambda c: (counts[c], c),
                )
            )
            continue
        # Then what bounds propagation shows: ＊s that can only all be 1, a bound met exactly, a ＊
        # fixed through a chain of sums — and which relation pins it.
        low, high = _bounds(counts, equations, hidden)
        pinned = sorted(c for c in hidden if low[c] >= high[c])
        second = next(
            (s for c in pinned if (s := _second_cell(c, counts, equations, by_cell, hidden, low, high))), None
        )
        if second is None and not pinned:
            # Last, what only the relations taken together show (bounds summed across a breakdown):
            # each ＊ needs a witness, another solution of every relation where it differs.
            moves = _Moves(counts, equations, hidden)
            for cell in sorted(hidden):
                if cell in free:
                    continue
                move = moves.witness(cell)
                if move is None:
                    second = _second_cell(cell, counts, equations, by_cell, hidden, low, high, targeted=False)
                    break
                free |= {c for c, d in move.items() if d}
            else:
                return hidden
        if second is None:
            return hidden  # nothing left to hide beside it: cannot happen for figures that fit the relations
        hidden.add(second)


def _lone_star(equation: _Equation, counts, hidden) -> bool:
    """One ＊ in the equation, and a non-zero published count beside it to hide with it."""
    stars = sum(1 for cell, _ in equation.terms if cell in hidden)
    return stars == 1 and any(cell not in hidden and counts[cell] > 0 for cell, _ in equation.terms)


def _implied(equation: _Equation, counts, hidden, low, high) -> dict[Cell, tuple[float, float]]:
    """The bounds `equation` alone puts on each of its ＊s, given the others' current bounds: the sums
    of the terms' least and greatest values once, then each ＊'s own share taken out (one pass, so that
    a breakdown by a hundred agencies stays linear)."""
    terms = []
    for cell, a in equation.terms:
        lo, hi = (low[cell], high[cell]) if cell in hidden else (counts[cell], counts[cell])
        terms.append((cell, a, a * (lo if a > 0 else hi), a * (hi if a > 0 else lo)))
    least = sum(t[2] for t in terms if not math.isinf(t[2]))
    least_unbounded = sum(1 for t in terms if math.isinf(t[2]))
    most = sum(t[3] for t in terms if not math.isinf(t[3]))
    most_unbounded = sum(1 for t in terms if math.isinf(t[3]))
    out = {}
    for cell, a, own_least, own_most in terms:
        if cell not in hidden:
            continue
        if least_unbounded - math.isinf(own_least):
            rest_least = -math.inf
        else:
            rest_least = least - (0 if math.isinf(own_least) else own_least)
        if most_unbounded - math.isinf(own_most):
            rest_most = math.inf
        else:
            rest_most = most - (0 if math.isinf(own_most) else own_most)
        # a·x = −rest (an equation) or a·x ≤ −rest (at most)
        top, bottom = -rest_least, (-math.inf if equation.at_most else -rest_most)
        lo, hi = (bottom / a, top / a) if a > 0 else (top / a, bottom / a)
        out[cell] = (lo if math.isinf(lo) else math.ceil(lo)), (hi if math.isinf(hi) else math.floor(hi))
    return out


def _bounds(counts, equations, hidden) -> tuple[dict, dict]:
    """What a reader can tell of each ＊ from the published figures: at least 1, and whatever the
    relations imply, narrowed to a fixpoint (bounds propagation; a value outside them fits no
    solution). The true figures always lie inside, so the bounds converge."""
    low = dict.fromkeys(hidden, 1)
    high = dict.fromkeys(hidden, math.inf)
    active = [e for e in equations if any(cell in hidden for cell, _ in e.terms)]
    for _ in range(200):  # a bound moves at most by the figures' size; tables this small settle in a few
        changed = False
        for equation in active:
            for cell, (lo, hi) in _implied(equation, counts, hidden, low, high).items():
                if lo > low[cell]:
                    low[cell], changed = lo, True
                if hi < high[cell]:
                    high[cell], changed = hi, True
        if not changed:
            break
    return low, high


def _pins(equation, cell, counts, hidden, low, high) -> bool:
    """Whether `equation` gives `cell` its upper bound, or a lower bound above the 1 every ＊ has."""
    lo, hi = _implied(equation, counts, hidden, low, high)[cell]
    return (hi <= high[cell] and not math.isinf(hi)) or lo >= max(low[cell], 2)


def _second_cell(cell, counts, equations, by_cell, hidden, low, high, *, targeted=True) -> Cell | None:
    """The cell to hide for a pinned ＊: the smallest non-zero published count of a relation that pins
    it — or, when those hold only ＊s, of the relations pinning those, nearest first. Untargeted (no
    single relation pins it), of any relation, nearest first."""
    frontier, seen_cells, seen = [cell], {cell}, set()
    while frontier:
        candidates, following = [], []
        for current in frontier:
            indexes = by_cell.get(current, [])
            if targeted:
                pinning = [i for i in indexes if _pins(equations[i], current, counts, hidden, low, high)]
                indexes = pinning or (indexes if current == cell else [])
            for index in indexes:
                if index in seen:
                    continue
                seen.add(index)
                for other, _ in equations[index].terms:
                    if other in hidden:
                        if other not in seen_cells:
                            seen_cells.add(other)
                            following.append(other)
                    elif counts[other] > 0:
                        candidates.append(other)
        if candidates:
            return min(candidates, key=lambda c: (counts[c], c))
        frontier = following
    return None


#: search steps for one witness before the ＊ is taken as pinned (and a cell more is hidden: the safe side)
WITNESS_BUDGET = 400


@dataclass(frozen=True)
class _Room:
    """How far the ＊s of one relation may move together from the true figures: Σ a·d = 0, or
    Σ a·d ≤ slack for a bound (slack: how far from being met it is)."""

    terms: tuple[tuple[Cell, int], ...]
    slack: int | None


class _Moves:
    """Moves d of the ＊s by −1, 0 or +1 each (none below 1) that keep every relation true."""

    def __init__(self, counts, equations, hidden):
        self.rooms, self.by_cell = [], {}
        for equation in equations:
            terms = tuple((c, a) for c, a in equation.terms if c in hidden)
            if terms:
                slack = -sum(a * counts[c] for c, a in equation.terms) if equation.at_most else None
                for c, _ in terms:
                    self.by_cell.setdefault(c, []).append(len(self.rooms))
                self.rooms.append(_Room(terms, slack))
        self.low = {c: max(-1, 1 - counts[c]) for c in hidden}
        self.high = dict.fromkeys(hidden, 1)
        # d = 0 fits figures that obey their relations, so this narrowing succeeds; each search starts
        # from it (a relation declared wrongly fails it, and then every ＊ near it counts as pinned)
        _narrow(self.rooms, self.by_cell, self.low, self.high, set(range(len(self.rooms))))

    def witness(self, cell) -> dict[Cell, int] | None:
        """A move with d[cell] ≠ 0: proof that `cell` has another feasible value. None when none is
        found within WITNESS_BUDGET steps."""
        for step in (1, -1):
            if not self.low[cell] <= step <= self.high[cell]:
                continue
            low, high = dict(self.low), dict(self.high)
            low[cell] = high[cell] = step
            move = _search(
                self.rooms, self.by_cell, low, high, set(self.by_cell.get(cell, [])), [WITNESS_BUDGET]
            )
            if move is not None:
                return move
        return None


def _narrow(rooms, by_cell, low, high, queue: set[int]) -> bool:
    """Bounds propagation over the moves, from the relations in `queue` to those whose ＊s it narrows;
    False when no move fits."""
    while queue:
        room = rooms[queue.pop()]
        top = 0 if room.slack is None else room.slack
        bottom = 0 if room.slack is None else -math.inf
        least = sum(a * (low[c] if a > 0 else high[c]) for c, a in room.terms)
        most = sum(a * (high[c] if a > 0 else low[c]) for c, a in room.terms)
        if least > top or most < bottom:
            return False
        for c, a in room.terms:
            upper = top - (least - a * (low[c] if a > 0 else high[c]))  # bounds on a·d
            lower = bottom - (most - a * (high[c] if a > 0 else low[c]))
            lo, hi = (lower / a, upper / a) if a > 0 else (upper / a, lower / a)
            lo = -math.inf if math.isinf(lo) else math.ceil(lo)
            hi = math.inf if math.isinf(hi) else math.floor(hi)
            if lo > low[c] or hi < high[c]:
                low[c], high[c] = max(lo, low[c]), min(hi, high[c])
                if low[c] > high[c]:
                    return False
                queue.update(by_cell[c])
    return True


def _search(rooms, by_cell, low, high, queue, budget) -> dict[Cell, int] | None:
    budget[0] -= 1
    if budget[0] < 0 or not _narrow(rooms, by_cell, low, high, queue):
        return None
    guess = {c: min(max(0, low[c]), high[c]) for c in low}  # move nothing that need not move
    for room in rooms:
        total = sum(a * guess[c] for c, a in room.terms)
        if total != 0 if room.slack is None else total > room.slack:
            break
    else:
        return guess
    # Branch on a ＊ of the first relation the guess breaks, trying first what mends it.
    movable = [(c, a) for c, a in room.terms if low[c] < high[c]]
    if not movable:
        return None
    c, a = min(movable)
    for value in sorted(
        range(int(low[c]), int(high[c]) + 1), key=lambda v: (a * v * (1 if total > 0 else -1), abs(v))
    ):
        lo, hi = dict(low), dict(high)
        lo[c] = hi[c] = value
        found = _search(rooms, by_cell, lo, hi, set(by_cell[c]), budget)
        if found is not None:
            return found
    return None
