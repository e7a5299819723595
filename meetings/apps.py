from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "多機関協働"

    def contributions(self):
        from jusou import registry
        from jusou.models import Role
        from meetings import panels, retention, selectors, services
        from meetings.statistics import meeting_statistics, multi_agency_statistics

        everyone = {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.MEETING_MEMBER}
        return [
            registry.Nav("多機関協働", "meetings:inbox", {Role.COORDINATOR}, order=15),
            registry.Nav("重層的支援会議", "meetings:conference_list", {Role.COORDINATOR}, order=16),
            registry.Nav("支援会議", "meetings:meeting_list", everyone, order=17),
            registry.CasePanel("meetings/_case_panel.html", panels.case_panel, order=10),
            registry.DashboardPanel(
                "meetings/panels/worker.html", {Role.WORKER}, panels.worker_dashboard, order=11
            ),
            # Pledges, the agency's 役割分担 and handovers waiting: for everyone who may be waited on.
            registry.DashboardPanel(
                "meetings/panels/waiting.html", everyone, panels.waiting_dashboard, order=5
            ),
            registry.DashboardPanel(
                "meetings/panels/coordinator.html", {Role.COORDINATOR}, panels.coordinator_dashboard, order=20
            ),
            registry.DashboardPanel(
                "meetings/panels/supervisor.html", {Role.SUPERVISOR}, panels.supervisor_dashboard, order=51
            ),
            registry.TransitionGuard(services.guard_plan_in_force),
            registry.ConsentRule(
                scope=selectors.consent_categories_for,
                cases_opening=selectors.consent_cases_opening,
                person_ids=selectors.consented_person_ids,
                person_categories=selectors.person_consent_categories_for,
            ),
            registry.RetentionCascade(
                "cases.case",
                retention.case_dispose,
                hold=retention.case_hold,
                leftovers=retention.case_leftovers,
            ),
            registry.PersonRetentionHold(retention.person_hold),
            registry.Statistics(multi_agency_statistics, order=20),
            registry.Statistics(meeting_statistics, order=30),
        ]
