from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "地域づくり"

    def contributions(self):
        from community.statistics import community_statistics
        from jusou import registry
        from jusou.models import Role

        return [
            registry.Nav(
                "地域資源",
                "community:resource_list",
                {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.COMMUNITY_WELFARE},
                order=50,
            ),
            registry.Statistics(community_statistics, order=60),
        ]
