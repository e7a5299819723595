"""Coordinators read アウトリーチ through grants, not by role (issue 14): every engagement already
recorded gets the grants engagement_start now gives — view and change for each 相談支援包括化推進員 in
post today, on behalf of the agency where they are one, basis 担当 — in the ledger and in the
guardian table."""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

REASON = "アウトリーチの統括（相談支援包括化推進員）"


def grant_coordinators(apps, schema_editor):
    Engagement = apps.get_model("outreach", "OutreachEngagement")
    if not Engagement.objects.exists():
        return
    # Permissions are made after migrating; a database migrated in one go has none yet.
    app_config = apps.get_app_config("outreach")
    previous = getattr(app_config, "models_module", None)
    app_config.models_module = previous or True  # a migration's app registry has no models module
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = previous
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    StaffMembership = apps.get_model("jusou", "StaffMembership")
    AccessGrant = apps.get_model("jusou", "AccessGrant")
    UserPermission = apps.get_model("outreach", "OutreachEngagementUserObjectPermission")
    today = timezone.localdate()
    coordinating = (
        StaffMembership.objects.filter(role="coordinator", started_on__lte=today, user__is_active=True)
        .exclude(ended_on__lte=today)
        .order_by("user_id", "pk")
    )
    agency_of = {}
    for user_id, agency_id in coordinating.values_list("user_id", "agency_id"):
        agency_of.setdefault(user_id, agency_id)
    if not agency_of:
        return
    content_type = ContentType.objects.get(app_label="outreach", model="outreachengagement")
    permissions = {
        p.codename.split("_")[0]: p
        for p in Permission.objects.filter(content_type=content_type, codename__endswith="_outreachengagement")
    }
    now = timezone.now()
    engagements = list(Engagement.objects.values_list("pk", flat=True))
    for user_id, agency_id in agency_of.items():
        held = set(
            AccessGrant.objects.filter(content_type=content_type, user_id=user_id, revoked_at__isnull=True)
            .values_list("object_id", "permission")
        )
        grants, guardian = [], []
        for engagement_id in engagements:
            for permission in ("view", "change"):
                if (engagement_id, permission) in held:
                    continue
                grants.append(AccessGrant(content_type=content_type, object_id=engagement_id, user_id=user_id,
                                          on_behalf_of_id=agency_id, permission=permission, basis="assignment",
                                          reason=REASON, starts_at=now))
                guardian.append(UserPermission(user_id=user_id, permission=permissions[permission],
                                               content_object_id=engagement_id))
        AccessGrant.objects.bulk_create(grants, batch_size=2000)
        UserPermission.objects.bulk_create(guardian, batch_size=2000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0001_initial"),
        ("jusou", "0013_readlog_refused"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_coordinators, migrations.RunPython.noop)]
