"""How the programme apps put themselves into what the core shows and decides, without the core
importing them.

Each app's AppConfig declares what it adds in one method, `contributions()`, returning a list of the
contribution records below (navigation entries, dashboard and case panels, transition guards, the
consent rule, statistics, retention types …). The core collects them once, lazily, the first time it
asks (after the apps are loaded), and reads them through the functions here. An app may also define a
contribution kind of its own and read it with `contributed` (community.occupancy.ActivePlacements).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.urls import reverse


@dataclass(frozen=True)
class Nav:
    """An entry of the navigation bar, shown to the roles named."""

    label: str
    url_name: str
    roles: frozenset[str]
    order: int = 100

    def __post_init__(self):
        object.__setattr__(self, "roles", frozenset(self.roles))


@dataclass(frozen=True)
class DashboardPanel:
    """A panel of the dashboard: context(request) -> dict, rendered into `template` for the roles named."""

    template: str
    roles: frozenset[str]
    context: Callable | None = None
    order: int = 100

    def __post_init__(self):
        object.__setattr__(self, "roles", frozenset(self.roles))


@dataclass(frozen=True)
class CasePanel:
    """A panel of the case page: context(request, case) -> dict, or None to show nothing to this user."""

    template: str
    context: Callable
    order: int = 100


@dataclass(frozen=True)
class TransitionGuard:
    """Refuses case moves the app's own rules forbid: guard(case, from_status, to_status, acting_user)
    raises ValidationError with a message for the user."""

    guard: Callable


@dataclass(frozen=True)
class ConsentRule:
    """What 本人同意 opens, from the app that records consents (DOMAIN.md §4: a consent covers the
    person who gave it, and only the categories it names):

    - scope(user, case) -> the information categories the user's agencies may see of a case when
      their only basis is consent;
    - cases_opening(user, case_ids, category) -> the ids among `case_ids` whose valid consents open
      `category` to the user's agencies (the same rule, for many cases at once);
    - person_ids(user) -> a values() QuerySet of the people whose own consent names the reader's
      agency (a household member's own basis), for the visibility query;
    - person_categories(user, person_ids) -> {person id: the categories those consents open}.
    """

    scope: Callable
    cases_opening: Callable
    person_ids: Callable
    person_categories: Callable


@dataclass(frozen=True)
class LocationProtection:
    """provider(model, object_ids) -> ids whose location fields are masked for readers who are not
    personally assigned (住所秘匿). Used where the core renders records it does not own (audit)."""

    provider: Callable


@dataclass(frozen=True)
class Statistics:
    """A 事業's part of the statistics (jusou.reports.statistics): provider(scope) -> (事業 name, list of
    jusou.reports.tables.Table), every figure an aggregate computed in the database over the records
    `scope` (jusou.reports.statistics.StatisticsScope) lets the reader count."""

    provider: Callable
    order: int = 100


@dataclass(frozen=True)
class SystemAdminModels:
    """Models of the declaring app that the システム管理者 group may view, add and change in the admin
    (code lists and the like; never case records)."""

    models: tuple[str, ...]

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(self.models))


@dataclass(frozen=True)
class RetentionType:
    """A record type with a 保存年限 counted from its closure (DOMAIN.md §8, the municipality's
    文書管理規程). `provider` is the unit of disposal, written by the app that owns the records:

    - `model`: the unit's model (a candidate names it by content type and id);
    - `closed_field`: the DateTimeField holding the closure (終結・中断・終了);
    - `agency_field`: the ForeignKey to the responsible agency (a filter for supervisors), or None;
    - `closed_records()`: a QuerySet of the records that are closed now, whatever the date;
    - `number(pk)`: a label that says nothing about the person (C-000123);
    - `url(pk)`: the record's page, or None;
    - `dispose(pk, acting_user=)`: anonymise the unit's own rows (jusou.retention.anonymise) and
      return {model label: [ids]} of the rows changed.

    `default_years` seeds the editable RetentionPolicy row the first time (the 文書管理規程 differ per
    municipality).
    """

    code: str
    label: str
    provider: Any
    default_years: int


@dataclass(frozen=True)
class RetentionCascade:
    """A later app's rows of a unit of disposal (a case's 支援プラン, 本人同意, 参加支援 …), anonymised
    when the unit is disposed."""

    code: str  # the RetentionType's
    dispose: Callable  # (ids, *, acting_user) -> {model label: [ids]}
    hold: Callable | None = None  # (ids) -> the ids still in use in this app: neither listed nor disposed
    # (ids, removed, *, acting_user) -> {label: [ids]}: after every scrub of the unit, take the texts
    # it removed (jusou.retention.anonymise.Removed) out of this app's records about several units
    # (a meeting's minutes), through jusou.retention.leftovers.text_replace.
    leftovers: Callable | None = None


@dataclass(frozen=True)
class PersonRetentionHold:
    """provider(person_ids) -> the people who still have records within retention in the app. A person
    is anonymised only when no app holds them."""

    provider: Callable


@dataclass(frozen=True)
class DepartureHandover:
    """What a worker leaves behind at an agency whose membership ends (jusou.staff.services.membership_end:
    the open cases they lead as 主担当者 …), for that agency's 管理者 to hand over:
    provider(user, agency) -> (what, in words; link to a list of those records) or None for nothing."""

    provider: Callable


@dataclass(frozen=True)
class Declared:
    app_label: str
    item: Any


@functools.cache
def _declared() -> tuple[Declared, ...]:
    apps.check_apps_ready()
    found = []
    for config in apps.get_app_configs():
        declare = getattr(config, "contributions", None)
        if declare is not None:
            found.extend(Declared(config.label, item) for item in declare())
    return tuple(found)


def declared() -> tuple[Declared, ...]:
    """Every contribution with the app that declared it, in the order of INSTALLED_APPS."""
    return _declared()


def contributed(kind: type) -> list:
    """The contributions of one kind, in the order the apps declared them."""
    return [d.item for d in _declared() if isinstance(d.item, kind)]


def _ordered(kind: type) -> list:
    return sorted(contributed(kind), key=lambda item: item.order)


def nav_for(user) -> list[dict]:
    return [
        {"label": item.label, "url": reverse(item.url_name), "url_name": item.url_name}
        for item in _ordered(Nav)
        if item.roles & user.roles
    ]


def panels_for(request) -> list[dict]:
    return [
        {"template": panel.template, **(panel.context(request) if panel.context else {})}
        for panel in _ordered(DashboardPanel)
        if panel.roles & request.user.roles
    ]


def case_panels(request, case) -> list[dict]:
    panels = []
    for panel in _ordered(CasePanel):
        values = panel.context(request, case)
        if values is not None:
            panels.append({"template": panel.template, **values})
    return panels


def check_transition_guards(case, from_status: str, to_status: str, acting_user) -> None:
    for item in contributed(TransitionGuard):
        item.guard(case, from_status, to_status, acting_user)


def consent_scope(user, case) -> set[str]:
    scope: set[str] = set()
    for rule in contributed(ConsentRule):
        scope |= set(rule.scope(user, case))
    return scope


def consent_cases_opening(user, case_ids, category) -> set:
    opened: set = set()
    for rule in contributed(ConsentRule):
        opened |= set(rule.cases_opening(user, case_ids, category))
    return opened


def person_consent_ids(user) -> list:
    return [rule.person_ids(user) for rule in contributed(ConsentRule)]


def person_consent_categories(user, person_ids) -> dict:
    scope: dict = {}
    for rule in contributed(ConsentRule):
        for person_id, opened in rule.person_categories(user, person_ids).items():
            scope.setdefault(person_id, set()).update(opened)
    return scope


def location_protected_ids(model, object_ids) -> set:
    ids: set = set()
    for item in contributed(LocationProtection):
        ids |= set(item.provider(model, object_ids))
    return ids


def statistics_providers() -> list:
    return [item.provider for item in _ordered(Statistics)]


def system_admin_models() -> dict[str, tuple[str, ...]]:
    return {d.app_label: tuple(d.item.models) for d in _declared() if isinstance(d.item, SystemAdminModels)}


# --- 保存年限 (retention) and disposal: jusou.retention -------------------------------------------------


def retention_types() -> list[RetentionType]:
    return sorted(contributed(RetentionType), key=lambda t: t.code)


def retention_type(record_type_code: str) -> RetentionType | None:
    return next((t for t in contributed(RetentionType) if t.code == record_type_code), None)


def retention_type_choices() -> list[tuple[str, str]]:
    return [(t.code, t.label) for t in retention_types()]


def retention_cascades(record_type_code: str) -> list[RetentionCascade]:
    return [c for c in contributed(RetentionCascade) if c.code == record_type_code]


def person_retention_holds(person_ids) -> set:
    held: set = set()
    for item in contributed(PersonRetentionHold):
        held |= set(item.provider(person_ids))
    return held


# --- A worker leaving an agency (jusou.staff.services.membership_end) -----------------------------------


def departure_handovers(user, agency) -> list[tuple[str, str]]:
    return [
        found for item in contributed(DepartureHandover) if (found := item.provider(user, agency)) is not None
    ]
