"""What the システム管理者 role may do in the Django admin: accounts, memberships, agencies, 圏域.

Deliberately nothing about cases: administering the system gives no access to case records.
Programme apps add their code lists (課題分類, 相談経路 …) with a jusou.registry.SystemAdminModels contribution.
"""

from django.contrib.auth.models import Group, Permission

from jusou.registry import system_admin_models

SYSTEM_ADMIN_GROUP = "システム管理者"
SYSTEM_ADMIN_PERMISSIONS = {
    # app label: model names; each gets view, add and change (never delete: records are ended, not removed)
    "jusou": [
        *("user", "staffmembership", "agency", "area", "apiclient", "retentionpolicy", "exportjob"),
        # single sign-on: who is who at which IdP, group mappings; the sign-in log and the SSO sessions
        # are read only in their admin (a session can be ended there)
        *("ssoidentity", "ssogroupmapping", "ssoevent", "ssosession"),
    ],
}


def ensure_system_admin_group(**kwargs) -> Group:

    group, _ = Group.objects.get_or_create(name=SYSTEM_ADMIN_GROUP)
    granted = {**system_admin_models(), **SYSTEM_ADMIN_PERMISSIONS}
    wanted = Permission.objects.filter(
        content_type__app_label__in=granted,
        codename__in=[
            f"{action}_{model}"
            for models in granted.values()
            for model in models
            for action in ("view", "add", "change")
        ],
    )
    group.permissions.set(wanted)
    return group
