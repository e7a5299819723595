from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "アウトリーチ等を通じた継続的支援"

    def contributions(self):
        from jusou import registry
        from jusou.models import Role
        from outreach import retention
        from outreach.statistics import outreach_statistics

        return [
            registry.Nav(
                "アウトリーチ",
                "outreach:engagement_list",
                {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR},
                order=45,
            ),
            registry.RetentionType(
                "outreach.engagement",
                "アウトリーチ（ケースにつながらず終了）",
                retention.EngagementRetention(),
                default_years=5,
            ),
            registry.RetentionCascade("cases.case", retention.case_dispose, hold=retention.case_hold),
            registry.PersonRetentionHold(retention.person_hold),
            registry.Statistics(outreach_statistics, order=40),
        ]
