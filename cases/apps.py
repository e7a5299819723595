from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "包括的相談支援"

    def contributions(self):
        from cases import panels, policy, retention, services
        from cases.statistics import consultation_statistics
        from jusou import registry
        from jusou.models import Role

        staff = {Role.WORKER, Role.COORDINATOR, Role.SUPERVISOR}
        return [
            registry.Nav("相談受付", "cases:intake", {Role.WORKER, Role.COORDINATOR}, order=10),
            registry.Nav("ケース一覧", "cases:case_list", staff, order=20),
            registry.Nav("本人検索", "cases:person_search", staff, order=30),
            registry.Nav("相談受付一覧", "cases:consultation_list", staff, order=40),
            registry.DashboardPanel("cases/panels/worker.html", {Role.WORKER}, panels.worker, order=10),
            # The coordinators' panel (inbox, meetings, 役割分担) belongs to meetings, which declares it.
            registry.DashboardPanel(
                "cases/panels/supervisor.html", {Role.SUPERVISOR}, panels.supervisor, order=50
            ),
            registry.LocationProtection(policy.protected_record_ids),
            registry.DepartureHandover(services.lead_cases_handover),
            registry.RetentionType(
                "cases.case", "支援ケース（終結・中断）", retention.CaseRetention(), default_years=10
            ),
            registry.RetentionType(
                "cases.consultation",
                "相談受付（ケース化なし）",
                retention.ConsultationRetention(),
                default_years=5,
            ),
            registry.SystemAdminModels(["code"]),  # システム管理者 maintain the code lists
            registry.Statistics(consultation_statistics, order=10),
        ]
