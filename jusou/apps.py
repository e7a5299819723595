from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JusouConfig(AppConfig):
    name = "jusou"
    verbose_name = "共通 (職員・機関・お知らせ)"

    def ready(self):
        from jusou import tasks  # noqa: F401  (the services queue its tasks by name: jusou.later)
        from jusou.audit.guard import install_history_guard
        from jusou.retention.selectors import retention_policies_ensure
        from jusou.staff.roles import ensure_system_admin_group

        post_migrate.connect(ensure_system_admin_group, sender=self)
        post_migrate.connect(install_history_guard, sender=self)
        post_migrate.connect(retention_policies_ensure, sender=self)

    def contributions(self):
        from jusou import registry
        from jusou.models import Role

        # The statistics page is the core's; each programme declares its sections (registry.Statistics).
        return [
            registry.Nav("統計", "statistics", {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}, order=90)
        ]
