"""アウトリーチ in the みどり市 demo (fictional): from a 民生委員's report to つなぎ."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case
from jusou.models import Agency, User
from outreach import services
from outreach.models import OutreachEngagement

NAME = "木村さん（70代男性・ごみ屋敷の家）"


def load_outreach_demo() -> None:
    if OutreachEngagement.objects.filter(provisional_name=NAME).exists():
        return
    worker = User.objects.get(username="intake_a")
    now = timezone.now()
    engagement = services.engagement_start(
        acting_user=worker,
        provisional_name=NAME,
        how_known="minsei",
        purpose="relationship",
        background="民生委員より。庭にごみが積まれ、本人の姿をしばらく見ていない。声をかけても応じない。",
        approximate_location="中央二丁目の角の一軒家",
        plan_frequency="週1回",
        plan_visitors="青木、民生委員",
    )
    OutreachEngagement.objects.filter(pk=engagement.pk).update(started_at=now - timedelta(days=60))
    contacts = [
        (56, "visit_absent", "", "呼び鈴に応答なし。郵便受けに手紙を入れた。", None),
        (49, "letter", "", "民生委員と相談窓口の案内を手紙で届けた。", None),
        (42, "visit_refused", "本人", "玄関越しに「構わないでくれ」と言われた。声に張りはある。", True),
        (28, "visit_met", "本人", "玄関先で5分ほど話せた。膝が痛く片付けられないと話す。", True),
        (14, "accompany", "本人", "整形外科の受診に同行。帰りに地域包括の相談員を紹介した。", True),
    ]
    for days, kind, whom, response, safety in contacts:
        services.contact_record(
            engagement=engagement,
            acting_user=worker,
            kind=kind,
            met_whom=whom,
            response=response,
            safety_confirmed=safety,
            contacted_at=now - timedelta(days=days),
        )
    services.stage_set(
        engagement=engagement, acting_user=worker, stage="trust", reason="受診同行で信頼関係ができた"
    )
    case = Case.objects.filter(person__name="木村 勇").first()
    if case is not None:
        services.engagement_link(engagement=engagement, acting_user=worker, case=case)
    services.engagement_end(
        engagement=engagement, acting_user=worker, connected_agency=Agency.objects.get(code="chuo-houkatsu")
    )
