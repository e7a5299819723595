from django.apps import AppConfig


class ParticipationConfig(AppConfig):
    name = "participation"
    verbose_name = "参加支援"

    def ready(self):
        from jusou.models import Role
        from jusou.registry import register_case_panel, register_demo, register_nav
        from participation import demo, panels

        register_nav(
            "参加支援先の開拓",
            "participation:development",
            {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.COMMUNITY_WELFARE},
            order=55,
        )
        register_case_panel("participation/_case_panel.html", panels.case_panel, order=30)

        # places left at a host (community.occupancy): capacity − the placements in force there
        from community.occupancy import register_active_placements
        from participation.models import active_placements

        register_active_placements(active_placements)
        register_demo(demo.load_participation_demo, order=40)

        from jusou.registry import register_retention_cascade
        from participation import retention

        register_retention_cascade("cases.case", retention.case_dispose, hold=retention.case_hold)

        from jusou.registry import register_statistics
        from participation.statistics import participation_statistics

        register_statistics(50, participation_statistics)

        from jusou.registry import register_generator
        from participation.generate import generate_participation

        register_generator(50, generate_participation)
