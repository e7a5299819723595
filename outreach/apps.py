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

        from jusou.registry import register_statistics
        from outreach.statistics import outreach_statistics

        register_statistics(40, outreach_statistics)
