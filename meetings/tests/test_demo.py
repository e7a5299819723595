from django.urls import reverse

from meetings.models import Consent, PlanStatus, SupportMeeting, SupportPlan


def test_demo_multi_agency_world(client, personas):
    plan = SupportPlan.objects.get(case__person__name="山本 トシ子")
    assert plan.status == PlanStatus.APPROVED
    consent = Consent.objects.valid().get(case=plan.case)
    assert "みどり障害者相談支援センター" in {a.name for a in consent.recipients.all()}
    meeting = SupportMeeting.objects.get(title="第1回 みどり市支援会議")
    client.force_login(personas["member_c"])
    assert client.get(reverse("meetings:meeting_detail", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("meetings:meeting_pledge", args=[meeting.pk])).status_code == 200
    client.force_login(personas["outsider"])
    assert client.get(reverse("meetings:meeting_pledge", args=[meeting.pk])).status_code == 404
    client.force_login(personas["coord"])
    html = client.get(reverse("meetings:inbox")).content.decode()
    assert "中村 由紀" in html and "多機関協働中 1件" in html
