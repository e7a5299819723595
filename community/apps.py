from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "地域づくり"

    def ready(self):
        from community import demo
        from jusou.models import Role
        from jusou.registry import register_demo, register_nav

        register_nav(
            "地域資源",
            "community:resource_list",
            {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.COMMUNITY_WELFARE},
            order=50,
        )
        register_demo(demo.load_community_demo, order=30)

        from community.statistics import community_statistics
        from jusou.registry import register_statistics

        register_statistics(60, community_statistics)

        from community.generate import generate_community
        from jusou.registry import register_generator

        register_generator(40, generate_community)
