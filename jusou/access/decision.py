"""An access decision: *whether* a user may see a record, *on which basis*, and *what* of it.

Selectors make the decision once, when they fetch the record (`<record>_get_for_user` attaches it as
`record.decision`); pages, serializers, prints and briefings render the record only through
`project(record, decision)`, and the read log takes the decision (`read_log(decision=…)`). Nothing
else works out a basis or a scope again: no template, no view, no serializer.

The scope is a set of information categories (the same codes a 本人同意 names, DOMAIN.md §8) and
each protected model declares once which of its fields belong to which category (FIELD_POLICY
"categories" in jusou.access.fieldpolicy). A consent covers the person who gave it: whether a household
member's own information is covered is a decision about that member (their own basis), never
inherited from the case of another member.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models

from jusou.models import AccessBasis


class InformationCategory(models.TextChoices):
    """What of a person's record a basis opens; what a consent lets the named agencies receive."""

    BASIC = "basic", "基本情報（氏名・生年月日・連絡先）"
    HOUSEHOLD = "household", "世帯の状況"
    ISSUES = "issues", "課題・アセスメント"
    HEALTH = "health", "病歴・障害の状況"
    PROGRESS = "progress", "支援経過"
    PLAN = "plan", "支援プラン"


ALL_CATEGORIES = frozenset(InformationCategory.values)

#: when several grants hold at once, the read is logged on the first of these that applies: the
#: reader's own 担当 before an emergency, before a meeting, before a consent.
BASIS_ORDER = (
    AccessBasis.ASSIGNMENT,
    AccessBasis.EMERGENCY,
    AccessBasis.SUPPORT_MEETING,
    AccessBasis.CONSENT,
    AccessBasis.SUPERVISOR,
)

#: bases that open the whole record; 本人同意 opens what it names, 支援会議 what the host shared
FULL_BASES = frozenset({AccessBasis.ASSIGNMENT, AccessBasis.EMERGENCY, AccessBasis.SUPERVISOR})


@dataclass(frozen=True)
class AccessDecision:
    """Why and how far a user sees one record. `basis` is an AccessBasis value; `grant_ids` the
    ledger rows behind it (none for a supervisor's role or an agency's own registration);
    `categories` the information categories the read opens."""

    basis: str
    categories: frozenset[str] = ALL_CATEGORIES
    grant_ids: tuple[int, ...] = ()
    note: str = ""

    def covers(self, category: str) -> bool:
        return category in self.categories

    @property
    def is_full(self) -> bool:
        return self.categories >= ALL_CATEGORIES

    @property
    def basis_label(self) -> str:
        return AccessBasis(self.basis).label if self.basis in AccessBasis.values else ""

    @property
    def category_labels(self) -> list[str]:
        return [c.label for c in InformationCategory if c.value in self.categories]

    @property
    def withheld_labels(self) -> list[str]:
        return [c.label for c in InformationCategory if c.value not in self.categories]

    def log_detail(self) -> str:
        """What the read log says of the scope besides the basis (a partial read names what it opened)."""
        parts = [self.note] if self.note else []
        if not self.is_full:
            parts.append(
                "範囲: " + "・".join(c.value for c in InformationCategory if c.value in self.categories)
            )
        return " ".join(parts)

    @classmethod
    def supervisor(cls, note: str = "") -> "AccessDecision":
        """管理者: read-only over everything, every read logged (DOMAIN.md §4)."""
        return cls(AccessBasis.SUPERVISOR, note=note)

    @classmethod
    def own_agency(cls, note: str = "") -> "AccessDecision":
        """The reader's agency registered or received the record itself (its own 所掌事務): 担当."""
        return cls(AccessBasis.ASSIGNMENT, note=note)


def strongest(bases: Iterable[str]) -> str | None:
    held = set(bases)
    return next((basis for basis in BASIS_ORDER if basis in held), None)


def decide(grants: Iterable, *, consent_categories=None) -> AccessDecision | None:
    """The decision that valid `grants` (AccessGrant rows of one record for one reader) add up to:
    the strongest basis for the log, and the union of what each opens. `consent_categories()` gives
    the categories the reader's consents open (asked only when a consent grant is among them)."""
    grants = list(grants)
    if not grants:
        return None
    bases = {grant.basis for grant in grants}
    if bases & FULL_BASES:
        categories = ALL_CATEGORIES
    else:
        categories = frozenset()
        if AccessBasis.CONSENT in bases and consent_categories is not None:
            categories |= frozenset(consent_categories())
        if AccessBasis.SUPPORT_MEETING in bases:
            categories |= ALL_CATEGORIES  # a meeting grant on the record itself (not on a briefing)
    return AccessDecision(
        strongest(bases), categories=frozenset(categories), grant_ids=tuple(sorted(g.pk for g in grants))
    )


def combine(*decisions: "AccessDecision | None") -> AccessDecision | None:
    """Several bases for the same record (a person seen through two cases): log the strongest, open
    the union."""
    present = [d for d in decisions if d is not None]
    if not present:
        return None
    basis = strongest(d.basis for d in present)
    categories = frozenset().union(*(d.categories for d in present))
    grant_ids = tuple(sorted({g for d in present for g in d.grant_ids}))
    return AccessDecision(basis, categories=categories, grant_ids=grant_ids)
