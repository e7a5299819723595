from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "アウトリーチ等を通じた継続的支援"

    def ready(self):
        from jusou.models import Role
        from jusou.registry import register_demo, register_nav
        from outreach import demo

        register_nav(
            "アウトリーチ",
            "outreach:engagement_list",
            {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR},
            order=45,
        )
        register_demo(demo.load_outreach_demo, order=25)

        from jusou.registry import (
            register_person_retention_hold,
            register_retention,
            register_retention_cascade,
        )
        from outreach import retention

        register_retention(
            "outreach.engagement",
            "アウトリーチ（ケースにつながらず終了）",
            retention.EngagementRetention(),
            default_years=5,
        )
        register_retention_cascade("cases.case", retention.case_dispose, hold=retention.case_hold)
        register_person_retention_hold(retention.person_hold)

        from jusou.registry import register_statistics
        from outreach.statistics import outreach_statistics

        register_statistics(40, outreach_statistics)

        from jusou.registry import register_generator
        from outreach.generate import generate_outreach

        register_generator(30, generate_outreach)
