"""How the programme apps put themselves into the shared pages without jusou importing them:
each app registers its navigation entries and dashboard panels in its AppConfig.ready()."""

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]
    order: int = 100


@dataclass(frozen=True)
class DashboardPanel:
    template: str
    roles: frozenset[str]
    context: Any = field(default=None)  # callable(request) -> dict
    order: int = 100


_nav: list[NavItem] = []
_panels: list[DashboardPanel] = []


def register_nav(label: str, url_name: str, roles, order: int = 100) -> None:
    _nav.append(NavItem(label, url_name, frozenset(roles), order))


def register_dashboard_panel(template: str, roles, context=None, order: int = 100) -> None:
    _panels.append(DashboardPanel(template, frozenset(roles), context, order))


def nav_for(user) -> list[dict]:
    return [
        {"label": item.label, "url": reverse(item.url_name), "url_name": item.url_name}
        for item in sorted(_nav, key=lambda i: i.order)
        if item.roles & user.roles
    ]


def panels_for(request) -> list[dict]:
    return [
        {"template": panel.template, **(panel.context(request) if panel.context else {})}
        for panel in sorted(_panels, key=lambda p: p.order)
        if panel.roles & request.user.roles
    ]


_system_admin_models: dict[str, tuple[str, ...]] = {}


def register_system_admin_models(app_label: str, models) -> None:
    """Models of `app_label` that the システム管理者 group may view, add and change in the admin (code
    lists and the like; never case records). Once per app."""
    if app_label in _system_admin_models:
        raise ValueError(f"{app_label} has already registered its system-administration models.")
    _system_admin_models[app_label] = tuple(models)


def system_admin_models() -> dict[str, tuple[str, ...]]:
    return dict(_system_admin_models)


_demo_loaders: list[tuple[int, Any]] = []


def register_demo(loader, order: int = 100) -> None:
    """A programme app adds its part of the みどり市 demo world (called by `loaddemo`, idempotent)."""
    _demo_loaders.append((order, loader))


def demo_loaders() -> list:
    return [loader for _, loader in sorted(_demo_loaders, key=lambda item: item[0])]


_case_panels: list[tuple[int, str, Any]] = []


def register_case_panel(template: str, context, order: int = 100) -> None:
    """A later programme app adds a panel to the case page: context(request, case) -> dict or None
    (None: nothing to show to this user)."""
    _case_panels.append((order, template, context))


def case_panels(request, case) -> list[dict]:
    panels = []
    for _, template, context in sorted(_case_panels, key=lambda item: item[0]):
        values = context(request, case)
        if values is not None:
            panels.append({"template": template, **values})
    return panels


_transition_guards: list[Any] = []


def register_transition_guard(guard) -> None:
    """A later app refuses case moves its own rules forbid: guard(case, from_status, to_status,
    acting_user) raises ValidationError with a message for the user."""
    _transition_guards.append(guard)


def check_transition_guards(case, from_status: str, to_status: str, acting_user) -> None:
    for guard in _transition_guards:
        guard(case, from_status, to_status, acting_user)


_consent_scope: list[Any] = []


def register_consent_scope(provider) -> None:
    """The app that records 本人同意 tells which information categories a user's agencies may see of
    a case when their only basis is consent: provider(user, case) -> set of category codes."""
    _consent_scope.append(provider)


def consent_scope(user, case) -> set[str]:
    scope: set[str] = set()
    for provider in _consent_scope:
        scope |= set(provider(user, case))
    return scope


_consent_cases_opening: list[Any] = []


def register_consent_cases_opening(provider) -> None:
    """The same rule as the consent scope, for many cases at once: provider(user, case_ids, category)
    -> the ids among `case_ids` whose valid consents open `category` to the user's agencies."""
    _consent_cases_opening.append(provider)


def consent_cases_opening(user, case_ids, category) -> set:
    opened: set = set()
    for provider in _consent_cases_opening:
        opened |= set(provider(user, case_ids, category))
    return opened


_person_consents: list[tuple[Any, Any]] = []


def register_person_consent(person_ids, categories) -> None:
    """The app that records 本人同意 tells whose own consent names the reader's agency — a household
    member's own basis (DOMAIN.md §4: a consent covers the person who gave it):
    person_ids(user) -> a values() QuerySet of person ids, for the visibility query;
    categories(user, person_ids) -> {person id: the information categories those consents open}."""
    _person_consents.append((person_ids, categories))


def person_consent_ids(user) -> list:
    return [person_ids(user) for person_ids, _ in _person_consents]


def person_consent_categories(user, person_ids) -> dict:
    scope: dict = {}
    for _, categories in _person_consents:
        for person_id, opened in categories(user, person_ids).items():
            scope.setdefault(person_id, set()).update(opened)
    return scope


_location_protection: list[Any] = []


def register_location_protection(provider) -> None:
    """provider(model, object_ids) -> set of ids whose location fields must be masked for readers who
    are not personally assigned (住所秘匿). Used where jusou renders records it does not own (audit)."""
    _location_protection.append(provider)


def location_protected_ids(model, object_ids) -> set:
    ids: set = set()
    for provider in _location_protection:
        ids |= set(provider(model, object_ids))
    return ids


_statistics: list[tuple[int, Any]] = []


def register_statistics(order: int, provider) -> None:
    """A programme app adds its 事業 to the statistics (jusou.reports.statistics): provider(scope) ->
    (事業 name, list of jusou.reports.tables.Table), every figure an aggregate computed in the database over
    the records `scope` (jusou.reports.statistics.StatisticsScope) lets the reader count."""
    _statistics.append((order, provider))


def statistics_providers() -> list:
    return [provider for _, provider in sorted(_statistics, key=lambda item: item[0])]


_generators: list[tuple[int, Any]] = []


def register_generator(order: int, generator) -> None:
    """A programme app adds its part of the synthetic municipality (`generate_municipality`):
    generator(context) with context a jusou.generate.GenerationContext, called in `order`."""
    _generators.append((order, generator))


def generators() -> list:
    return [generator for _, generator in sorted(_generators, key=lambda item: item[0])]


# --- 保存年限 (retention) and disposal: jusou.retention -------------------------------------------------


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
    """

    code: str
    label: str
    provider: Any
    default_years: int


@dataclass(frozen=True)
class RetentionCascade:
    dispose: Any  # (ids, *, acting_user) -> {model label: [ids]}
    hold: Any = None  # (ids) -> set of the ids still in use in this app (not to be disposed yet)
    # (ids, removed, *, acting_user) -> {label: [ids]}: after every scrub of the unit, take the texts
    # it removed (jusou.retention.anonymise.Removed) out of this app's records about several units
    # (a meeting's minutes), through jusou.retention.leftovers.text_replace.
    leftovers: Any = None


_retention_types: dict[str, RetentionType] = {}
_retention_cascades: dict[str, list[RetentionCascade]] = {}
_person_retention_holds: list[Any] = []


def register_retention(record_type_code: str, label: str, provider, default_years: int) -> None:
    """An app declares a record type with a 保存年限 (see RetentionType); `default_years` seeds the
    editable RetentionPolicy row the first time (the 文書管理規程 differ per municipality)."""
    _retention_types[record_type_code] = RetentionType(record_type_code, label, provider, default_years)


def retention_types() -> list[RetentionType]:
    return sorted(_retention_types.values(), key=lambda t: t.code)


def retention_type(record_type_code: str) -> RetentionType | None:
    return _retention_types.get(record_type_code)


def retention_type_choices() -> list[tuple[str, str]]:
    return [(t.code, t.label) for t in retention_types()]


def register_retention_cascade(record_type_code: str, dispose, hold=None, leftovers=None) -> None:
    """A later app anonymises its own rows of a unit when the unit is disposed (a case's 支援プラン,
    本人同意, 参加支援 …): dispose(ids, acting_user=) -> {model label: [ids]}; and may hold units it still
    uses (an open アウトリーチ on a closed case): hold(ids) -> set of held ids, which are neither listed
    nor disposed."""
    _retention_cascades.setdefault(record_type_code, []).append(RetentionCascade(dispose, hold, leftovers))


def retention_cascades(record_type_code: str) -> list[RetentionCascade]:
    return list(_retention_cascades.get(record_type_code, ()))


def register_person_retention_hold(provider) -> None:
    """A later app tells which people still have records of theirs within retention in it:
    provider(person_ids) -> set of person ids. A person is anonymised only when no app holds them."""
    _person_retention_holds.append(provider)


def person_retention_holds(person_ids) -> set:
    held: set = set()
    for provider in _person_retention_holds:
        held |= set(provider(person_ids))
    return held


# --- A worker leaving an agency (jusou.staff.services.membership_end) -----------------------------------------

_departure_handovers: list[Any] = []


def register_departure_handover(provider) -> None:
    """A programme app names what a worker leaves behind at an agency whose membership ends (the
    open cases they lead as 主担当者 …), for that agency's 管理者 to hand over:
    provider(user, agency) -> (what, in words; link to a list of those records) or None for nothing."""
    _departure_handovers.append(provider)


def departure_handovers(user, agency) -> list[tuple[str, str]]:
    return [found for provider in _departure_handovers if (found := provider(user, agency)) is not None]
