from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "包括的相談支援"

    def ready(self):
        from cases import demo, panels, policy, retention, services
        from jusou.models import Role
        from jusou.registry import (
            register_dashboard_panel,
            register_demo,
            register_departure_handover,
            register_location_protection,
            register_nav,
            register_retention,
            register_system_admin_models,
        )

        staff = {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}
        register_nav("相談受付", "cases:intake", {Role.WORKER, Role.COORDINATOR}, order=10)
        register_nav("ケース一覧", "cases:case_list", staff, order=20)
        register_nav("本人検索", "cases:person_search", staff, order=30)
        register_nav("相談受付一覧", "cases:consultation_list", staff, order=40)
        register_dashboard_panel("cases/panels/worker.html", {Role.WORKER}, panels.worker, order=10)
        # The coordinators' panel (inbox, meetings, 役割分担) belongs to meetings, which registers it.
        register_dashboard_panel(
            "cases/panels/supervisor.html", {Role.SUPERVISOR}, panels.supervisor, order=50
        )
        register_demo(demo.load_cases_demo, order=10)
        register_location_protection(policy.protected_record_ids)
        register_departure_handover(services.lead_cases_handover)
        register_retention(
            "cases.case", "支援ケース（終結・中断）", retention.CaseRetention(), default_years=10
        )
        register_retention(
            "cases.consultation",
            "相談受付（ケース化なし）",
            retention.ConsultationRetention(),
            default_years=5,
        )
        register_system_admin_models("cases", ["code"])  # システム管理者 maintain the code lists

        from cases.statistics import consultation_statistics
        from jusou.registry import register_statistics

        register_statistics(10, consultation_statistics)

        from cases.generate import generate_cases
        from jusou.registry import register_generator

        register_generator(10, generate_cases)
