"""The one access mechanism every app uses for protected records (cases, meetings, plans …).

A grant is written to the ledger (AccessGrant: basis, grantor, period) and, in the same
transaction, to the object's django-guardian direct foreign-key permission table (a
`<Model>UserObjectPermission` / `<Model>GroupObjectPermission` pair declared next to the model).
Agency-wide grants go to the agency's guardian group; who belongs to an agency is read from the
active StaffMembership rows when the query runs, so a transfer or a departure takes effect at once.

`visible_q` is what selectors filter with: a row must have a guardian permission *and* a grant that
is valid at this moment. Nothing else reads permissions; supervisors' read-only access over
everything is decided by each selector, since it is a role, not a grant.
"""

from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from jusou.access.decision import AccessDecision, decide, strongest
from jusou.audit.readlog import read_refused
from jusou.models import AccessGrant, Agency, User


def agency_group(agency: Agency) -> Group:
    """The guardian group that holds an agency's grants, created on first use."""
    if agency.group_id is None:
        with transaction.atomic():
            agency = Agency.objects.select_for_update().get(pk=agency.pk)
            if agency.group_id is None:
                agency.group = Group.objects.create(name=f"機関:{agency.code}")
                agency.save(update_fields=["group"])
    return agency.group


def _codename(model: type[models.Model], permission: str) -> str:
    return f"{permission}_{model._meta.model_name}"


@transaction.atomic
def access_grant(
    *,
    obj: models.Model,
    basis: str,
    acting_user: User | None,
    user: User | None = None,
    agency: Agency | None = None,
    on_behalf_of: Agency | None = None,
    permissions: Iterable[str] = ("view",),
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    reason: str = "",
) -> list[AccessGrant]:
    """Grant `user` or every staff member of `agency` the given permissions on `obj`.

    Invariants: each ledger row has exactly one grantee and a basis, and the guardian table holds the
    same permission for as long as at least one valid grant does. A personal grant follows the
    person's job: it names the agency on whose behalf it is given (`on_behalf_of`, one the user works
    for now) and holds only while they still work there (visible_q; membership_end revokes it). Left
    out, that agency is the record's owning agency if the user works there, else the user's only
    agency; a user with several must be told which; one who belongs to no agency (an external 支援会議
    member) gets a grant tied to none.
    """
    if (user is None) == (agency is None):
        raise ValueError("grant to exactly one of user or agency")
    if agency is not None and on_behalf_of is not None:
        raise ValueError("on_behalf_of is for personal grants")
    if user is not None:
        on_behalf_of = _grantee_agency(user, obj, on_behalf_of)
    content_type = ContentType.objects.get_for_model(obj)
    grants = []
    for permission in permissions:
        grant = AccessGrant(
            content_type=content_type,
            object_id=obj.pk,
            user=user,
            agency=agency,
            on_behalf_of=on_behalf_of,
            permission=permission,
            basis=basis,
            reason=reason,
            granted_by=acting_user,
            starts_at=starts_at or timezone.now(),
            ends_at=ends_at,
        )
        grant.full_clean()
        grant._history_user = acting_user
        grant.save()
        grants.append(grant)
        assign_perm(_codename(type(obj), permission), user or agency_group(agency), obj)
    return grants


def _grantee_agency(user: User, obj: models.Model, on_behalf_of: Agency | None) -> Agency | None:
    """The agency a personal grant is given on behalf of (see access_grant)."""
    agencies = user.agencies
    if on_behalf_of is not None:
        if on_behalf_of not in agencies:
            raise ValidationError(
                f"{user}さんは{on_behalf_of}に所属していないため、その機関として付与できません。"
            )
        return on_behalf_of
    if not user.active_memberships:
        raise ValidationError(f"{user}さんには有効な所属がないため、アクセス権を付与できません。")
    owning_agency_id = getattr(obj, "owning_agency_id", None)
    for agency in agencies:
        if agency.pk == owning_agency_id:
            return agency
    if len(agencies) > 1:
        raise ValueError(f"{user} works for several agencies: name the one the grant is given on behalf of")
    return agencies[0] if agencies else None


@transaction.atomic
def access_revoke(*, grant: AccessGrant, acting_user: User | None, reason: str) -> None:
    """End a grant now. The guardian permission goes too unless another valid grant still holds it."""
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        return
    grant.revoked_at = timezone.now()
    grant.revoked_by = acting_user
    grant.revoke_reason = reason
    grant._history_user = acting_user
    grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    _drop_guardian_permission_if_unbacked(grant)


def access_revoke_for(*, obj: models.Model, acting_user: User | None, reason: str, **filters) -> int:
    """Revoke every valid grant on `obj` matching `filters` (user=…, agency=…, basis=…)."""
    grants = list(AccessGrant.objects.valid().filter(**_object_filter(obj), **filters))
    for grant in grants:
        access_revoke(grant=grant, acting_user=acting_user, reason=reason)
    return len(grants)


def access_expire_due() -> int:
    """Beat: drop guardian permissions whose every grant has run out. Access already stopped at
    the end time (visible_q checks validity); this keeps the guardian tables tidy."""
    now = timezone.now()
    expired = AccessGrant.objects.filter(ends_at__lte=now, revoked_at__isnull=True)
    count = 0
    for grant in expired.select_related("agency", "user", "content_type")[:1000]:
        with transaction.atomic():
            grant.revoked_at = grant.ends_at
            grant.revoke_reason = "期間満了"
            grant.save(update_fields=["revoked_at", "revoke_reason"])
            _drop_guardian_permission_if_unbacked(grant)
        count += 1
    return count


def _object_filter(obj: models.Model) -> dict:
    return {"content_type": ContentType.objects.get_for_model(obj), "object_id": obj.pk}


def _drop_guardian_permission_if_unbacked(grant: AccessGrant) -> None:
    still_backed = (
        AccessGrant.objects.valid()
        .filter(content_type=grant.content_type, object_id=grant.object_id, permission=grant.permission)
        .filter(user=grant.user, agency=grant.agency)
        .exists()
    )
    if not still_backed:
        obj = grant.content_type.get_object_for_this_type(pk=grant.object_id)
        grantee = grant.user or agency_group(grant.agency)
        remove_perm(_codename(type(obj), grant.permission), grantee, obj)


#: per_request's values within one GET or HEAD request (ReadRequestMemoMiddleware), None outside one
_read_request_memo: ContextVar[dict | None] = ContextVar("read_request_memo", default=None)


class ReadRequestMemoMiddleware:
    """While a GET or HEAD request runs, visible_q answers the same question once (per_request): a
    dashboard asks for the user's visible cases in six panels. What visible_q keeps is the condition
    (its SQL, the moment `now` and the user's agencies of this request), not its rows: every query
    still reads the grants as they are when it runs. A request that may write (POST …) keeps
    nothing, since a grant it gives starts at a later moment than one taken at its start."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        token = _read_request_memo.set({})
        try:
            return self.get_response(request)
        finally:
            _read_request_memo.reset(token)


def per_request(key, compute):
    """`compute()` once per GET or HEAD request for `key` (ReadRequestMemoMiddleware), every time
    outside one. For what no read changes: a condition, or the ids of a user's own cases."""
    memo = _read_request_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def visible_q(user: User, model: type[models.Model], permission: str = "view", *, per_row: bool = False) -> Q:
    """The rows of `model` that `user` holds `permission` on right now, through a grant to them or to
    an agency they currently work for. Use it inside a selector's filter(). A personal grant given on
    behalf of an agency counts only while the user works there (AccessGrantQuerySet.personal: the ids
    of their agencies today, already loaded, in the query — read from the same index, no join).

    Both halves of a grant must be there for the same grantee: the guardian row and a valid ledger
    row. For lists the check is made on sets, not row by row: (personal grants ∩ the user's guardian
    rows) ∪ (the agencies' grants ∩ their groups' guardian rows), each side read from its own index,
    so the database builds one id set and fetches the rows by primary key. With `per_row` (for a query
    that other conditions narrow to a few rows: one case by its key, the 50 cases waiting in the
    inbox) the same rule is probed for each of those rows instead of building the user's whole set."""
    return per_request(
        ("visible_q", user.pk, model._meta.label, permission, per_row),
        lambda: _visible_q(user, model, permission, per_row=per_row),
    )


def _visible_q(user: User, model: type[models.Model], permission: str, *, per_row: bool) -> Q:
    content_type = ContentType.objects.get_for_model(model)
    permission_id = _permission_id(content_type, _codename(model, permission))
    grants = AccessGrant.objects.valid().filter(content_type=content_type, permission=permission)
    user_perms = get_user_obj_perms_model(model).objects.filter(user=user, permission_id=permission_id)
    agencies = user.agencies
    group_ids = [agency.group_id for agency in agencies if agency.group_id]
    group_perms = get_group_obj_perms_model(model).objects.filter(
        group_id__in=group_ids, permission_id=permission_id
    )
    if per_row:
        row_grants = grants.filter(object_id=OuterRef("pk"))
        own = Exists(user_perms.filter(content_object=OuterRef("pk"))) & Exists(row_grants.personal(user))
        if not group_ids:
            return Q(own)
        through_agency = Exists(group_perms.filter(content_object=OuterRef("pk"))) & Exists(
            row_grants.filter(agency__in=agencies)
        )
        return Q(own | through_agency)
    ids = grants.personal(user).values("object_id").intersection(user_perms.values("content_object_id"))
    if group_ids:
        through_agency = (
            grants.filter(agency__in=agencies)
            .values("object_id")
            .intersection(group_perms.values("content_object_id"))
        )
        ids = ids.union(through_agency)
    # Compiled here, once: the queries that filter with it (a count, a page, a panel's two lists) then
    # carry its SQL and parameters as they are, instead of resolving and compiling five querysets each.
    sql, params = ids.query.sql_with_params()
    return Q(pk__in=RawSQL(sql, params))  # noqa: S611  (Django compiled it: parameters stay parameters)


def _permission_id(content_type: ContentType, codename: str) -> Subquery:
    """The auth Permission's id as an uncorrelated subquery: the database looks it up once per query
    (an InitPlan) instead of joining auth_permission for every candidate row."""
    return Subquery(
        Permission.objects.filter(content_type=content_type, codename=codename).order_by().values("pk")[:1]
    )


def grants_held(user: User, obj: models.Model, permission: str = "view") -> list[AccessGrant]:
    """The valid grants through which `user` holds `permission` on `obj` now (theirs and their
    agencies'), oldest first: what an access decision rests on."""
    grants = AccessGrant.objects.valid().filter(**_object_filter(obj), permission=permission)
    return list(grants.held_by(user).order_by("pk"))


def access_decision(user: User, obj: models.Model, *, consent_categories=None) -> AccessDecision | None:
    """The decision the user's valid grants on `obj` add up to (jusou.access.decision.decide), or None."""
    return decide(grants_held(user, obj), consent_categories=consent_categories)


def access_basis(user: User, obj: models.Model, permission: str = "view") -> str | None:
    """The basis on which `user` holds `permission` on `obj` now (the strongest of their grants), or None."""
    return strongest(grant.basis for grant in grants_held(user, obj, permission))


def visible_or_404(queryset, *, user: User, pk, message: str):
    """The row `pk` of `queryset` — already narrowed to what `user` may see — or Http404 with
    `message`, the refusal logged (read_refused) whether or not a row with that id exists: the one way
    a selector fetches a protected record by id, so missing and forbidden take the same path."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        read_refused(user=user, model=queryset.model, pk=pk)
        raise Http404(message)
    return row
