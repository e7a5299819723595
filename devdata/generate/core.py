"""The synthetic municipality (`manage.py generate_municipality`): realistic, invented data at the
scale of a large 特別区, made reproducibly from a seed, for load tests and benchmarks.

This module holds what every app's part shares: the GenerationContext (seeded random source, scale,
the 圏域, agencies and staff made first, the calendar of 重層的支援会議, progress output), the bulk
writers (rows with their history, access grants with their guardian rows, the read log's hash
chain) and jusou's own part: 圏域, agencies, staff, the benchmark accounts and the API client. Each
programme's part is a module beside this one, run in the order `generate_municipality` lists them.

Everything is written through bulk paths (`bulk_create`, `bulk_create_with_history`, historical rows
built like simple-history builds them), never through the services — but it writes exactly the rows
the services would: the same grants on the same bases, the same guardian rows, the same transitions.
tests/test_generate.py holds it to that: for each kind of grant it writes (case opened, つなぎ依頼 and
its return, 支援会議 host and members, アウトリーチ, 本人同意 after a plan's approval) the service, run on
the generated city, writes rows of the same shape or — consent_access_sync — finds nothing to change;
the transitions follow the state machine and the read log's chain verifies.
"""

import hashlib
import math
import random
import time
from base64 import b32decode
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.urls import reverse
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model
from simple_history.utils import bulk_create_with_history

from devdata.generate.names import DISTRICTS, FAMILY_NAMES, GIVEN_NAMES, pairs
from jusou.models import (
    AccessGrant,
    Agency,
    AgencyKind,
    ApiScope,
    Area,
    AreaLevel,
    ReadLog,
    Role,
    StaffMembership,
    User,
)

TOKYO = ZoneInfo("Asia/Tokyo")
BATCH = 5000
BASE_POPULATION = 900_000
PASSWORD = "midori-demo-2025"  # noqa: S105 - the demo password; the command refuses to run with DEBUG off


@dataclass
class GenerationContext:
    """What each app's generator receives. `store` carries what one app's part leaves for a later one
    (the cases for 多機関協働, say), keyed by the app that wrote it."""

    seed: int
    population: int
    today: date
    out: Callable[[str], None] = print
    rng: random.Random = field(init=False)
    scale: float = field(init=False)
    anchor: datetime = field(init=False)
    start: datetime = field(init=False)
    areas_middle: list = field(default_factory=list)
    areas_small: list = field(default_factory=list)
    agencies: list = field(default_factory=list)
    agencies_by_kind: dict = field(default_factory=lambda: defaultdict(list))
    workers: dict = field(default_factory=lambda: defaultdict(list))  # agency id -> [User]
    coordinators: list = field(default_factory=list)
    supervisors: list = field(default_factory=list)
    meeting_members: list = field(default_factory=list)
    users: dict = field(default_factory=dict)  # id -> User
    agency_of: dict = field(default_factory=dict)  # user id -> their one agency's id (None: external member)
    conference_slots: list = field(default_factory=list)  # [(held_at, title)] of 重層的支援会議
    store: dict = field(default_factory=dict)
    fixtures: list = field(default_factory=list)  # (label, value) printed at the end
    timings: list = field(default_factory=list)  # (step, seconds, counts)
    # reads to append to the read log at the end: (at, user_id, action, content_type_id, object_id, basis, detail)
    read_logs: list = field(default_factory=list)
    family_names: list = field(init=False)
    given_names: dict = field(init=False)
    _counts: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self.rng = random.Random(self.seed)  # noqa: S311 - synthetic data, reproducible from the seed
        self.scale = self.population / BASE_POPULATION
        # The generated history ends at midnight (Asia/Tokyo) that begins `today`: the same seed and
        # day give the same data, and nothing generated lies in the future of a running server.
        self.anchor = datetime(self.today.year, self.today.month, self.today.day, tzinfo=TOKYO)
        # 10 年度 (April–March) ending with the current one.
        first_year = (self.today.year if self.today.month >= 4 else self.today.year - 1) - 9
        self.start = datetime(first_year, 4, 1, 9, tzinfo=TOKYO)
        self.family_names = pairs(FAMILY_NAMES)
        self.given_names = {key: pairs(text) for key, text in GIVEN_NAMES.items()}

    # --- sizes, time, progress ---------------------------------------------------------------------

    def n(self, base: float, minimum: int = 0) -> int:
        """`base` (the figure for 900,000 people) scaled to this population."""
        return max(minimum, round(base * self.scale))

    def moment(self, start: datetime, end: datetime) -> datetime:
        """A random moment between start and end, moved into office hours (9:00–18:00, Asia/Tokyo)."""
        if end <= start:
            return start
        at = start + timedelta(seconds=self.rng.random() * (end - start).total_seconds())
        local = at.astimezone(TOKYO)
        if not (8 <= local.hour < 18):
            local = local.replace(hour=self.rng.randint(9, 17), minute=self.rng.randint(0, 59))
            at = local if start <= local <= end else at
        return at

    def pick(self, weighted: list[tuple]) -> object:
        """One value of [(value, weight) …]."""
        total = sum(weight for _, weight in weighted)
        point = self.rng.random() * total
        for value, weight in weighted:
            point -= weight
            if point < 0:
                return value
        return weighted[-1][0]

    def tally(self, label: str, count: int) -> None:
        self._counts[label] += count

    @contextmanager
    def step(self, label: str):
        self._counts = Counter()
        started = time.monotonic()
        self.out(f"[{self.elapsed():7.1f}s] {label} …")
        yield
        seconds = time.monotonic() - started
        counts = dict(self._counts)
        self.timings.append((label, seconds, counts))
        detail = "、".join(f"{name} {count:,}" for name, count in counts.items())
        self.out(f"[{self.elapsed():7.1f}s] {label}: {detail}（{seconds:.1f}秒）")

    def progress(self, label: str, done: int, total: int) -> None:
        self.out(f"[{self.elapsed():7.1f}s]   {label} {done:,} / {total:,}")

    def elapsed(self) -> float:
        if not hasattr(self, "_t0"):
            self._t0 = time.monotonic()
        return time.monotonic() - self._t0

    # --- writing -----------------------------------------------------------------------------------

    def create(self, model: type[models.Model], objs: list, *, label: str | None = None) -> list:
        """bulk_create_with_history in batches: one '+' history row per object, dated and signed by
        the object's `_history_date`, `_history_user` and `_change_reason`."""
        done = []
        for start in range(0, len(objs), BATCH):
            done += bulk_create_with_history(objs[start : start + BATCH], model, batch_size=BATCH)
        self.tally(label or model._meta.verbose_name, len(objs))
        self.tally("履歴", len(objs))
        return done

    def create_tracked(
        self, model: type[models.Model], objs: list, *, label: str | None = None
    ) -> tuple[list, list]:
        """Like create(), but returns the historical rows too (their keys carry the snapshot of a
        tracked many-to-many field): (objects, [(object id, historical row)])."""
        objs = self.create_plain(model, objs, label=label)
        rows = [
            history_row(
                obj,
                at=obj._history_date,
                user_id=obj._history_user.pk if obj._history_user else None,
                reason=getattr(obj, "_change_reason", ""),
            )
            for obj in objs
        ]
        rows = self.create_history(rows)
        return objs, [(obj.pk, row) for obj, row in zip(objs, rows, strict=True)]

    def create_plain(
        self, model: type[models.Model], objs: list, *, label: str | None = None, **kwargs
    ) -> list:
        done = []
        for start in range(0, len(objs), BATCH):
            done += model.objects.bulk_create(objs[start : start + BATCH], batch_size=BATCH, **kwargs)
        if label != "":
            self.tally(label or model._meta.verbose_name, len(objs))
        return done

    def create_history(self, rows: list) -> list:
        """Historical rows built with history_row()."""
        if not rows:
            return []
        done = self.create_plain(type(rows[0]), rows, label="")
        self.tally("履歴", len(rows))
        return done

    def m2m(
        self, model: type[models.Model], field_name: str, pairs: list[tuple[int, int]], histories=()
    ) -> None:
        """Through-table rows (owner id, target id) of a many-to-many field, and — for fields simple-history
        tracks (m2m_fields) — their snapshot under each historical row: `histories` is [(owner id,
        historical row)], every historical row of an owner carrying the owner's current set."""
        through = getattr(model, field_name).through
        source, target = _through_columns(model, field_name)
        rows = self.create_plain(
            through,
            [through(**{source: a, target: b}) for a, b in pairs],
            label=f"{model._meta.verbose_name}・{field_name}",
        )
        if not histories:
            return
        historical = apps.get_model(model._meta.app_label, f"Historical{model.__name__}_{field_name}")
        by_owner = defaultdict(list)
        for row in rows:
            by_owner[getattr(row, source)].append(row)
        snapshot = [
            historical(id=row.pk, history_id=history.pk, **{source: owner, target: getattr(row, target)})
            for owner, history in histories
            for row in by_owner.get(owner, ())
        ]
        self.create_plain(historical, snapshot, label="")
        self.tally("履歴", len(snapshot))


def _through_columns(model, field_name) -> tuple[str, str]:
    field = model._meta.get_field(field_name)
    return f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"


_tracked: dict = {}


def history_row(
    obj: models.Model, *, at: datetime, user_id: int | None, reason: str = "", kind: str = "+", **changes
):
    """The historical row simple-history would write when `obj` is saved at `at` by `user_id`
    (kind '+' created, '~' changed), with `changes` overriding the object's current values (the
    state at that moment, for a record that has moved on since)."""
    model = type(obj)
    known = _tracked.get(model)
    if known is None:
        historical = model.history.model  # the descriptor builds a manager class per access: once only
        known = _tracked[model] = (historical, [f.attname for f in historical.tracked_fields])
    historical, names = known
    values = {name: getattr(obj, name) for name in names}
    values.update(changes)
    return historical(
        history_date=at,
        history_user_id=user_id,
        history_change_reason=reason or None,
        history_type=kind,
        **values,
    )


def stamp(obj: models.Model, *, at: datetime, user: User | None, reason: str = "") -> models.Model:
    """Date and sign the '+' history row bulk_create_with_history will write for `obj`."""
    obj._history_date = at
    obj._history_user = user
    if reason:
        obj._change_reason = reason
    return obj


# --- Access grants -------------------------------------------------------------------------------------


class GrantWriter:
    """AccessGrant ledger rows and the guardian direct foreign-key rows that go with them, as
    jusou.access.grants.access_grant writes them (one ledger row per permission; the guardian row on the
    object for the user or the agency's group; a personal grant given on behalf of the user's one
    agency, none for an external member), in bulk. A grant whose period has run out is
    revoked as access_expire_due leaves it (期間満了, no guardian row); a revoked grant has no guardian
    row either, like access_revoke leaves it when nothing else backs the permission."""

    def __init__(self, ctx: GenerationContext):
        self.ctx = ctx
        self.grants: list[AccessGrant] = []
        self.guardian: dict = defaultdict(list)  # guardian model -> rows
        self._types: dict = {}
        self._perms: dict = {}
        self.groups = {agency.pk: agency.group_id for agency in Agency.objects.all()}

    def content_type(self, model) -> ContentType:
        if model not in self._types:
            self._types[model] = ContentType.objects.get_for_model(model)
        return self._types[model]

    def permission_id(self, model, permission: str) -> int:
        key = (model, permission)
        if key not in self._perms:
            self._perms[key] = Permission.objects.get(
                content_type=self.content_type(model), codename=f"{permission}_{model._meta.model_name}"
            ).pk
        return self._perms[key]

    def add(
        self,
        model,
        object_id: int,
        *,
        basis: str,
        granted_by: int | None,
        starts_at: datetime,
        user_id: int | None = None,
        agency_id: int | None = None,
        permissions=("view",),
        reason: str = "",
        ends_at: datetime | None = None,
        revoked_at: datetime | None = None,
        revoked_by: int | None = None,
        revoke_reason: str = "",
        granted_at: datetime | None = None,
    ) -> None:
        content_type = self.content_type(model)
        if revoked_at is None and ends_at is not None and ends_at <= self.ctx.anchor:
            revoked_at, revoke_reason = ends_at, "期間満了"  # what the beat (access_expire_due) leaves
        on_behalf_of = self.ctx.agency_of[user_id] if user_id is not None else None
        for permission in permissions:
            grant = AccessGrant(
                content_type=content_type,
                object_id=object_id,
                user_id=user_id,
                agency_id=agency_id,
                on_behalf_of_id=on_behalf_of,
                permission=permission,
                basis=basis,
                reason=reason[:500],
                granted_by_id=granted_by,
                starts_at=starts_at,
                ends_at=ends_at,
                revoked_at=revoked_at,
                revoked_by_id=revoked_by,
                revoke_reason=revoke_reason,
            )
            grant._granted_at = granted_at or starts_at
            self.grants.append(grant)
            if revoked_at is not None:
                continue
            perm = self.permission_id(model, permission)
            if user_id is not None:
                guardian = get_user_obj_perms_model(model)
                self.guardian[guardian].append(
                    guardian(permission_id=perm, user_id=user_id, content_object_id=object_id)
                )
            else:
                guardian = get_group_obj_perms_model(model)
                self.guardian[guardian].append(
                    guardian(permission_id=perm, group_id=self.groups[agency_id], content_object_id=object_id)
                )
        if len(self.grants) >= 20_000:
            self.flush()

    def flush(self) -> None:
        grants, self.grants = self.grants, []
        if grants:
            saved = self.ctx.create_plain(AccessGrant, grants, label="アクセス権の付与")
            history = []
            for grant in saved:
                if grant.revoked_at is None:
                    history.append(history_row(grant, at=grant._granted_at, user_id=grant.granted_by_id))
                else:
                    history.append(
                        history_row(
                            grant,
                            at=grant._granted_at,
                            user_id=grant.granted_by_id,
                            revoked_at=None,
                            revoked_by_id=None,
                            revoke_reason="",
                        )
                    )
                    history.append(
                        history_row(grant, at=grant.revoked_at, user_id=grant.revoked_by_id, kind="~")
                    )
            self.ctx.create_history(history)
        for model, rows in self.guardian.items():
            # Two grants on the same basis (or two bases) share one guardian row, as assign_perm does.
            self.ctx.create_plain(model, rows, label="権限（guardian）", ignore_conflicts=True)
        self.guardian = defaultdict(list)


# --- The read log ----------------------------------------------------------------------------------------


def read_log_write(ctx: GenerationContext) -> int:
    """Append the collected reads in time order, each chained to the previous row's hash exactly as
    jusou.audit.readlog.read_log chains them (so `verify_read_log` passes)."""
    rows = sorted(ctx.read_logs, key=lambda r: (r[0], r[1]))
    ctx.read_logs = []
    previous = ReadLog.objects.order_by("-pk").values_list("chain_hash", flat=True).first() or ""
    for start in range(0, len(rows), BATCH):
        batch = []
        for at, user_id, action, content_type_id, object_id, basis, detail in rows[start : start + BATCH]:
            # In UTC, as the database gives it back: the hash covers at.isoformat().
            row = ReadLog(
                user_id=user_id,
                at=at.astimezone(UTC),
                action=action,
                content_type_id=content_type_id,
                object_id=object_id,
                basis=basis,
                detail=detail[:500],
            )
            row.chain_hash = previous = row.compute_hash(previous)
            batch.append(row)
        # One INSERT per batch, rows in list order: the primary keys follow the chain.
        with transaction.atomic():
            ReadLog.objects.bulk_create(batch, batch_size=BATCH)
    ctx.tally("閲覧記録", len(rows))
    return len(rows)


# --- jusou's part: 圏域, agencies, staff -------------------------------------------------------------

# kind, agencies at 900,000 people, staff each, name pattern ({d}: a district)
AGENCY_PLAN = [
    (AgencyKind.COMMUNITY_GENERAL_SUPPORT, None, 12, "みどり{d}地域包括支援センター"),  # one per 中圏域
    (AgencyKind.DISABILITY_CONSULTATION, 8, 6, "みどり{d}障害者相談支援センター"),
    (AgencyKind.CHILD_FAMILY, 3, 10, "みどり{d}子ども家庭支援センター"),
    (AgencyKind.SELF_RELIANCE, 2, 10, "みどり{d}くらし・しごと相談センター"),
    (AgencyKind.SOCIAL_WELFARE_COUNCIL, 1, 20, "みどり市社会福祉協議会"),
    (AgencyKind.MUNICIPAL_OFFICE, 6, 15, None),
    (AgencyKind.MEDICAL, 6, 4, "みどり{d}病院 医療福祉相談室"),
    (AgencyKind.NPO_PRIVATE, 10, 4, "NPO法人{d}ささえあいネット"),
    (AgencyKind.COMMUNITY_GROUP, 4, 2, "{d}地区町会連合会"),
]
MUNICIPAL_OFFICES = [
    "みどり市 福祉総合相談課",
    "みどり市 生活福祉課",
    "みどり市 障害福祉課",
    "みどり市 高齢福祉課",
    "みどり市 子ども家庭課",
    "みどり市 保健予防課",
]
MIDDLE_AREAS = 20
SMALL_PER_MIDDLE = 6
COORDINATORS = 8
SUPERVISORS = 6
EXTERNAL_MEMBERS = 60
CONFERENCES = 1500
BENCH_WORKER = "bench_worker"
BENCH_COORDINATOR = "bench_coordinator"
BENCH_SUPERVISOR = "bench_supervisor"
BENCH_MEMBER = "bench_member"
BENCH_CLIENT = "ベンチマーク連携システム"
# 不足する社会資源 (jusou.ResourceGap), noticed at a 重層的支援会議 or in 地域づくり: (分野, 内容)
GAP_CATEGORIES = [
    ("居場所", "中高年のひきこもり当事者が通える居場所がない"),
    ("就労体験", "短時間から始められる就労体験の場が足りない"),
    ("移動支援", "通院や外出に使える移動手段がない"),
    ("居住支援", "保証人のいない人が借りられる住まいが少ない"),
    ("子どもの居場所", "放課後に中高生が過ごせる場がない"),
    ("見守り", "夜間の見守りの担い手がいない"),
    ("外国語対応", "多言語で相談できる場が少ない"),
    ("学習支援", "不登校の子どもの学習の場が少ない"),
]


def districts() -> list[str]:
    return DISTRICTS.split()


def generate_core(ctx: GenerationContext) -> None:
    with ctx.step("圏域・支援関係機関・職員"):
        _areas(ctx)
        _agencies(ctx)
        _staff(ctx)
        _conference_calendar(ctx)


def _areas(ctx: GenerationContext) -> None:
    names = districts()
    middle_count = min(len(names), max(2, ctx.n(MIDDLE_AREAS)))
    small_per = SMALL_PER_MIDDLE if ctx.scale >= 0.1 else 2
    root = stamp(
        Area(code="g-midori", name="みどり市全域", level=AreaLevel.MUNICIPAL), at=ctx.start, user=None
    )
    (root,) = ctx.create(Area, [root], label="圏域")
    middle = [
        stamp(
            Area(code=f"g-{i + 1:02d}", name=f"{names[i]}圏域", level=AreaLevel.MIDDLE, parent=root),
            at=ctx.start,
            user=None,
        )
        for i in range(middle_count)
    ]
    ctx.areas_middle = ctx.create(Area, middle, label="圏域")
    small = []
    for i, parent in enumerate(ctx.areas_middle):
        for j in range(small_per):
            name = (
                f"{names[i]}{'一二三四五六七八九'[j]}丁目町会"
                if j % 2 == 0
                else f"{names[i]}第{j // 2 + 1}小学校区"
            )
            small.append(
                stamp(
                    Area(code=f"g-{i + 1:02d}-{j + 1}", name=name, level=AreaLevel.SMALL, parent=parent),
                    at=ctx.start,
                    user=None,
                )
            )
    ctx.areas_small = ctx.create(Area, small, label="圏域")


def _agencies(ctx: GenerationContext) -> None:
    names = districts()
    rows = []
    for kind, count, _, pattern in AGENCY_PLAN:
        how_many = len(ctx.areas_middle) if count is None else max(1, ctx.n(count))
        for i in range(how_many):
            area = ctx.areas_middle[i % len(ctx.areas_middle)]
            if kind == AgencyKind.MUNICIPAL_OFFICE:
                name = MUNICIPAL_OFFICES[i % len(MUNICIPAL_OFFICES)] + (
                    "" if i < len(MUNICIPAL_OFFICES) else f"（{i}）"
                )
                area = None
            elif kind == AgencyKind.SOCIAL_WELFARE_COUNCIL:
                name = pattern if i == 0 else f"みどり市社会福祉協議会 {names[i]}地区事務所"
                area = None
            else:
                district = names[i % len(names)] if count is None else names[(i * 3 + 1) % len(names)]
                name = pattern.format(d=district)
            code = f"g-{kind.replace('_', '-')}-{i + 1:02d}"
            rows.append(stamp(Agency(code=code, name=name, kind=kind, area=area), at=ctx.start, user=None))
    ctx.agencies = ctx.create(Agency, rows, label="支援関係機関")
    from jusou.access.grants import agency_group

    for agency in ctx.agencies:
        agency.group_id = agency_group(agency).pk
        ctx.agencies_by_kind[agency.kind].append(agency)


def person_name(
    ctx: GenerationContext, sex: str, born: int, family: tuple[str, str] | None = None
) -> tuple[str, str]:
    """An invented name and its reading ("姓 名", "せい めい"); `family` keeps a household's 姓."""
    family_name, family_kana = family or ctx.rng.choice(ctx.family_names)
    pool = ctx.given_names[("male" if sex == "male" else "female", "older" if born < 1970 else "younger")]
    given, given_kana = ctx.rng.choice(pool)
    return f"{family_name} {given}", f"{family_kana} {given_kana}"


def _staff(ctx: GenerationContext) -> None:
    password = make_password(PASSWORD)  # one hash for all: hashing 600 times would take minutes
    plan: list[tuple[str, Agency | None, str]] = []  # (username, agency, role)
    staff_each = {kind: each for kind, _, each, _ in AGENCY_PLAN}
    municipal = ctx.agencies_by_kind[AgencyKind.MUNICIPAL_OFFICE]
    office = municipal[0]  # 福祉総合相談課: the 多機関協働 coordinators and the supervisors work there
    coordinators = max(2, ctx.n(COORDINATORS))
    supervisors = max(1, ctx.n(SUPERVISORS))
    plan += [(BENCH_COORDINATOR if i == 0 else None, office, Role.COORDINATOR) for i in range(coordinators)]
    plan += [
        (BENCH_SUPERVISOR if i == 0 else None, municipal[i % len(municipal)], Role.SUPERVISOR)
        for i in range(supervisors)
    ]
    bench_agency = bench_agency_for(ctx)
    for agency in ctx.agencies:
        each = max(2, round(staff_each[agency.kind] * math.sqrt(ctx.scale)))
        for i in range(each):
            username = BENCH_WORKER if agency == bench_agency and i == 0 else None
            plan.append((username, agency, Role.WORKER))
    externals = max(3, ctx.n(EXTERNAL_MEMBERS))
    plan += [(BENCH_MEMBER if i == 0 else None, None, Role.MEETING_MEMBER) for i in range(externals)]
    users, memberships = [], []
    for number, (username, agency, role) in enumerate(plan, start=1):
        sex = ctx.rng.choice(["male", "female"])
        name, _ = person_name(ctx, sex, ctx.rng.randint(1960, 2000))
        family, given = name.split(" ")
        username = username or f"gen{number:04d}"
        user = User(
            username=username,
            last_name=family,
            first_name=given,
            email=f"{username}@gen.midori.example",
            password=password,
            is_active=True,
            date_joined=ctx.start,
        )
        users.append(stamp(user, at=ctx.start, user=None, reason="職員アカウントの作成"))
        memberships.append((agency, role))
    users = ctx.create(User, users, label="職員アカウント")
    rows = []
    for user, (agency, role) in zip(users, memberships, strict=True):
        ctx.users[user.pk] = user
        ctx.agency_of[user.pk] = agency.pk if agency else None
        started = ctx.start.date() - timedelta(days=1)
        rows.append(
            stamp(
                StaffMembership(user=user, agency=agency, role=role, started_on=started),
                at=ctx.start,
                user=None,
            )
        )
        if role == Role.WORKER:
            ctx.workers[agency.pk].append(user)
        elif role == Role.COORDINATOR:
            ctx.coordinators.append(user)
        elif role == Role.SUPERVISOR:
            ctx.supervisors.append(user)
        elif role == Role.MEETING_MEMBER:
            ctx.meeting_members.append(user)
    ctx.create(StaffMembership, rows, label="職員の所属")
    ctx.bench_agency = bench_agency
    ctx.bench_worker = next(u for u in users if u.username == BENCH_WORKER)
    ctx.bench_coordinator = next(u for u in users if u.username == BENCH_COORDINATOR)
    ctx.bench_supervisor = next(u for u in users if u.username == BENCH_SUPERVISOR)
    ctx.bench_member = next(u for u in users if u.username == BENCH_MEMBER)
    colleagues = len(ctx.workers[bench_agency.pk])
    ctx.fixtures += [
        (
            "相談員（ケース一覧・ケース詳細）",
            f"{BENCH_WORKER}（{bench_agency.name}、相談員 {colleagues}人の機関）",
        ),
        ("相談支援包括化推進員（多機関協働の受付箱・プラン・支援会議の主催）", BENCH_COORDINATOR),
        ("管理者（変更履歴・閲覧記録・統計。二要素認証あり）", BENCH_SUPERVISOR),
        ("支援会議の外部構成員（守秘義務確認済み）", BENCH_MEMBER),
    ]


def bench_agency_for(ctx: GenerationContext) -> Agency:
    """A mid-size agency: a 地域包括支援センター (12 staff at full scale), the second if there is one."""
    centres = ctx.agencies_by_kind[AgencyKind.COMMUNITY_GENERAL_SUPPORT]
    return centres[1 % len(centres)]


# The agencies that receive consultations (包括的相談支援) and own cases.
CONSULTING_KINDS = [
    AgencyKind.COMMUNITY_GENERAL_SUPPORT,
    AgencyKind.DISABILITY_CONSULTATION,
    AgencyKind.CHILD_FAMILY,
    AgencyKind.SELF_RELIANCE,
    AgencyKind.SOCIAL_WELFARE_COUNCIL,
    AgencyKind.MUNICIPAL_OFFICE,
]


def _conference_calendar(ctx: GenerationContext) -> None:
    """The days the 重層的支援会議 meets (14:00 on weekdays, evenly over the 10 年度): cases close at
    one, plans are approved and evaluated at one. meetings writes the conferences themselves."""
    first = (ctx.start + timedelta(days=30)).date()
    weekdays = [first + timedelta(days=i) for i in range((ctx.today - first).days)]
    weekdays = [day for day in weekdays if day.weekday() < 5]
    count = min(len(weekdays), max(24, ctx.n(CONFERENCES)))
    slots = []
    for i in range(count):
        day = weekdays[i * len(weekdays) // count]
        slots.append(
            (datetime(day.year, day.month, day.day, 14, tzinfo=TOKYO), f"第{i + 1}回 重層的支援会議")
        )
    ctx.conference_slots = slots


def next_slot(ctx: GenerationContext, at: datetime) -> int | None:
    """The index of the first 重層的支援会議 on or after `at`, or None if none is held before today."""
    from bisect import bisect_left

    index = bisect_left(ctx.conference_slots, (at, ""))
    return index if index < len(ctx.conference_slots) else None


# --- jusou's last part: the API client, 2FA for the supervisor, the read log ---------------------------------


def generate_finish(ctx: GenerationContext) -> None:
    with ctx.step("閲覧記録（ハッシュチェーン）"):
        read_log_write(ctx)
    month = (ctx.anchor - timedelta(days=1)).strftime("%Y-%m")
    fiscal = ctx.today.year if ctx.today.month >= 4 else ctx.today.year - 1
    ctx.fixtures += [
        ("閲覧記録（利用者・月）", f"{reverse('audit_access_log')}?user={BENCH_WORKER}&month={month}"),
        ("統計（月）", f"{reverse('statistics')}?period=month&month={month}"),
        ("統計（年度）", f"{reverse('statistics')}?period=fiscal&fiscal_year={fiscal - 1}"),
    ]
    with ctx.step("API連携システム・二要素認証"):
        _api_client(ctx)
        _supervisor_device(ctx)


def _api_client(ctx: GenerationContext) -> None:
    from jusou.api.auth import token_issue
    from jusou.staff import services

    client = services.api_client_register(
        name=BENCH_CLIENT,
        department="福祉部 福祉総務課（性能試験）",
        agency=ctx.bench_agency,
        scopes=list(ApiScope.values),
        acting_user=None,
    )
    _, token = token_issue(user=client.user, days=90)
    ctx.tally("API連携システム", 1)
    ctx.fixtures.append(("API連携システム", f"{client.name}（{ctx.bench_agency.name} として、全スコープ）"))
    ctx.fixtures.append(("APIトークン（Authorization: Bearer …、90日有効）", token))


def _supervisor_device(ctx: GenerationContext) -> None:
    """The benchmark supervisor must use 2FA (管理者): the demo's 認証アプリ secret, as loaddemo gives it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from devdata.demo.twofactor import DEMO_DEVICE_NAME, DEMO_TOTP_SECRET

    TOTPDevice.objects.update_or_create(
        user=ctx.bench_supervisor,
        name=DEMO_DEVICE_NAME,
        defaults={"key": b32decode(DEMO_TOTP_SECRET).hex(), "confirmed": True},
    )
    ctx.fixtures.append(("管理者の二要素認証シークレット（デモと同じ）", DEMO_TOTP_SECRET))


# --- Reproducibility ---------------------------------------------------------------------------------------


def digest(querysets: Iterable) -> str:
    """A fingerprint of generated data that does not depend on primary keys (which differ between two
    databases): every value list in order."""
    hasher = hashlib.sha256()
    for queryset in querysets:
        for row in queryset.iterator(chunk_size=2000):
            hasher.update(repr(row).encode("utf-8"))
        hasher.update(b"|")
    return hasher.hexdigest()
