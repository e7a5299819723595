from django.apps import AppConfig


class ParticipationConfig(AppConfig):
    name = "participation"
    verbose_name = "参加支援"

    def contributions(self):
        from community.occupancy import ActivePlacements
        from jusou import registry
        from jusou.models import Role
        from participation import panels, retention
        from participation.models import active_placements
        from participation.statistics import participation_statistics

        return [
            registry.Nav(
                "参加支援先の開拓",
                "participation:development",
                {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.COMMUNITY_WELFARE},
                order=55,
            ),
            registry.CasePanel("participation/_case_panel.html", panels.case_panel, order=30),
            # places left at a host (community.occupancy): capacity − the placements in force there
            ActivePlacements(active_placements),
            registry.RetentionCascade("cases.case", retention.case_dispose, hold=retention.case_hold),
            registry.Statistics(participation_statistics, order=50),
        ]
