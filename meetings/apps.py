from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "多機関協働"

    def ready(self):
        from jusou.models import Role
        from jusou.registry import (
            register_case_panel,
            register_consent_cases_opening,
            register_consent_scope,
            register_dashboard_panel,
            register_demo,
            register_nav,
            register_person_consent,
            register_transition_guard,
        )
        from meetings import demo, panels, selectors, services

        register_nav("多機関協働", "meetings:inbox", {Role.COORDINATOR}, order=15)
        register_nav("重層的支援会議", "meetings:conference_list", {Role.COORDINATOR}, order=16)
        everyone = {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.MEETING_MEMBER}
        register_nav("支援会議", "meetings:meeting_list", everyone, order=17)
        register_case_panel("meetings/_case_panel.html", panels.case_panel, order=10)
        register_dashboard_panel(
            "meetings/panels/worker.html", {Role.WORKER}, panels.worker_dashboard, order=11
        )
        # Pledges, the agency's 役割分担 and handovers waiting: for everyone who may be waited on.
        register_dashboard_panel("meetings/panels/waiting.html", everyone, panels.waiting_dashboard, order=5)
        register_dashboard_panel(
            "meetings/panels/coordinator.html", {Role.COORDINATOR}, panels.coordinator_dashboard, order=20
        )
        register_dashboard_panel(
            "meetings/panels/supervisor.html", {Role.SUPERVISOR}, panels.supervisor_dashboard, order=51
        )
        register_transition_guard(services.guard_plan_in_force)
        register_demo(demo.load_meetings_demo, order=20)
        register_consent_scope(selectors.consent_categories_for)
        register_consent_cases_opening(selectors.consent_cases_opening)
        register_person_consent(selectors.consented_person_ids, selectors.person_consent_categories_for)

        from jusou.registry import register_person_retention_hold, register_retention_cascade
        from meetings import retention

        register_retention_cascade(
            "cases.case", retention.case_dispose, hold=retention.case_hold, leftovers=retention.case_leftovers
        )
        register_person_retention_hold(retention.person_hold)

        from jusou.registry import register_statistics
        from meetings.statistics import meeting_statistics, multi_agency_statistics

        register_statistics(20, multi_agency_statistics)
        register_statistics(30, meeting_statistics)

        from jusou.registry import register_generator
        from meetings.generate import generate_meetings

        register_generator(20, generate_meetings)
