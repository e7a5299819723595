"""A reader's attempt to work out suppressed statistics cells (＊) from what a response publishes.

Each ＊ is an unknown whole number ≥ 1 (a 0 is published as 0, so a ＊ is never 0), each relation the
published tables obey is a linear equation or inequality over the published numbers and the unknowns,
and a ＊ is *disclosed* when only one value fits them all. The solver is a small constraint solver
written for the tests, independent of the suppression code: bounds propagation (sound: a value it
rules out fits no solution) and then a search for a concrete alternative solution — a witness, checked
against every constraint — in which the ＊ differs from its true value. A ＊ with such a witness has at
least two feasible values; one without is reported as disclosed."""

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

#: how much search one question may take before the solver gives up (and reports the cell disclosed)
NODE_BUDGET = 50_000


@dataclass(frozen=True)
class Unknown:
    """A ＊ cell: `key` names it, `value` is what the raw report holds (only to verify the model and to
    search near it; the solver never uses it as a constraint)."""

    key: Hashable
    value: int


@dataclass
class Constraint:
    """Σ terms·x + constant = 0 (or ≤ 0 when `at_most`), coefficients ±1."""

    terms: dict[Hashable, int]
    constant: int
    at_most: bool

    def holds(self, values: dict) -> bool:
        total = self.constant + sum(a * values[k] for k, a in self.terms.items())
        return total <= 0 if self.at_most else total == 0


def _ceil(value):
    return value if math.isinf(value) else math.ceil(value)


def _floor(value):
    return value if math.isinf(value) else math.floor(value)


class Problem:
    def __init__(self):
        self.unknowns: dict[Hashable, int] = {}
        self.constraints: list[Constraint] = []

    def relation(self, left: Iterable, right: Iterable, *, at_most: bool = False) -> None:
        """Σ left = Σ right (≤ when `at_most`); each side holds published ints and Unknowns."""
        terms: dict[Hashable, int] = {}
        constant = 0
        for sign, side in ((1, left), (-1, right)):
            for cell in side:
                if isinstance(cell, Unknown):
                    self.unknowns[cell.key] = cell.value
                    terms[cell.key] = terms.get(cell.key, 0) + sign
                else:
                    constant += sign * cell
        terms = {k: a for k, a in terms.items() if a}
        if terms:
            self.constraints.append(Constraint(terms, constant, at_most))
        elif (constant > 0) if at_most else (constant != 0):
            raise AssertionError(f"the published figures break a relation: {left} vs {right}")

    # --- solving ---

    def _propagate(self, lo: dict, hi: dict) -> bool:
        """Narrow the bounds to a fixpoint; False when some unknown has no value left."""
        changed = True
        while changed:
            changed = False
            for c in self.constraints:
                for k, a in c.terms.items():
                    others = [(j, b) for j, b in c.terms.items() if j != k]
                    rest_low = c.constant + sum(b * (lo[j] if b > 0 else hi[j]) for j, b in others)
                    rest_high = c.constant + sum(b * (hi[j] if b > 0 else lo[j]) for j, b in others)
                    # a·x ∈ [−rest_high, −rest_low] for an equation, a·x ≤ −rest_low for an inequality
                    bottom, top = (-math.inf if c.at_most else -rest_high), -rest_low
                    new_lo, new_hi = (
                        (_ceil(bottom / a), _floor(top / a))
                        if a > 0
                        else (_ceil(top / a), _floor(bottom / a))
                    )
                    if new_lo > lo[k]:
                        lo[k], changed = new_lo, True
                    if new_hi < hi[k]:
                        hi[k], changed = new_hi, True
                    if lo[k] > hi[k]:
                        return False
        return True

    def bounds(self) -> tuple[dict, dict]:
        lo = dict.fromkeys(self.unknowns, 1)
        hi = dict.fromkeys(self.unknowns, math.inf)
        assert self._propagate(lo, hi), "the published figures fit no solution"
        return lo, hi

    def witness(self, key, *, below: bool) -> dict | None:
        """A solution in which `key` is below (or above) its true value, or None."""
        lo, hi = self.bounds()
        true = self.unknowns[key]
        if below:
            hi[key] = min(hi[key], true - 1)
        else:
            lo[key] = max(lo[key], true + 1)
        cap = (
            4 * (sum(self.unknowns.values()) + max((abs(c.constant) for c in self.constraints), default=0))
            + 10
        )
        budget = [NODE_BUDGET]
        found = self._search(lo, {k: min(v, cap) for k, v in hi.items()}, budget)
        if found is not None:
            assert all(c.holds(found) for c in self.constraints), "a witness must fit every relation"
            assert all(v >= 1 for v in found.values())
        return found

    def _search(self, lo: dict, hi: dict, budget: list) -> dict | None:
        budget[0] -= 1
        if budget[0] < 0:
            raise AssertionError("the solver ran out of budget")
        if not self._propagate(lo, hi):
            return None
        open_keys = [k for k in lo if lo[k] < hi[k]]
        if not open_keys:
            return {k: int(v) for k, v in lo.items()}
        key = min(open_keys, key=lambda k: (hi[k] - lo[k], str(k)))
        true = self.unknowns[key]
        # values nearest the true one first: a witness usually moves a few cells by one
        values = sorted(range(int(lo[key]), int(hi[key]) + 1), key=lambda v: (abs(v - true), v))
        for value in values:
            lo2, hi2 = dict(lo), dict(hi)
            lo2[key] = hi2[key] = value
            found = self._search(lo2, hi2, budget)
            if found is not None:
                return found
        return None

    def disclosed(self) -> dict:
        """The unknowns a reader can work out, with their value: a single value fits (no witness
        either side of the true value)."""
        assert all(c.holds(self.unknowns) for c in self.constraints), "the true figures break a relation"
        out = {}
        for key, true in self.unknowns.items():
            if self.witness(key, below=True) is None and self.witness(key, below=False) is None:
                out[key] = true
        return out
