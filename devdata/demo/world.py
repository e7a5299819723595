"""The demo world: みどり市, a fictional municipality. Every name here is invented.

Later issues add households and cases to it; `loaddemo` applies it and stays idempotent.
"""

from django.db import transaction

from devdata.demo import cases, community, meetings, outreach, participation, sso, twofactor
from jusou.models import Agency, AgencyKind, Area, AreaLevel, Role, StaffMembership, User
from jusou.notifications import services
from jusou.staff import services as staff_services

DEMO_PASSWORD = "midori-demo-2025"  # noqa: S105 - documented in README, refused with DEBUG off

AREAS = [
    # code, name, level, parent code
    ("midori", "みどり市全域", AreaLevel.MUNICIPAL, None),
    ("chuo", "中央圏域", AreaLevel.MIDDLE, "midori"),
    ("higashi", "東圏域", AreaLevel.MIDDLE, "midori"),
    ("chuo-1", "中央一丁目町会", AreaLevel.SMALL, "chuo"),
    ("higashi-sho", "東小学校区", AreaLevel.SMALL, "higashi"),
    ("nishi", "西圏域", AreaLevel.MIDDLE, "midori"),
    ("nishi-2", "西二丁目自治会", AreaLevel.SMALL, "nishi"),
]

AGENCIES = [
    # code, name, kind, area code
    ("chuo-houkatsu", "みどり中央地域包括支援センター", AgencyKind.COMMUNITY_GENERAL_SUPPORT, "chuo"),
    ("higashi-houkatsu", "みどり東地域包括支援センター", AgencyKind.COMMUNITY_GENERAL_SUPPORT, "higashi"),
    ("shogai-soudan", "みどり障害者相談支援センター", AgencyKind.DISABILITY_CONSULTATION, "midori"),
    ("kodomo-katei", "みどり子ども家庭支援センター", AgencyKind.CHILD_FAMILY, "midori"),
    ("jiritsu-soudan", "みどり市生活自立相談センター", AgencyKind.SELF_RELIANCE, "midori"),
    ("shakyo", "みどり市社会福祉協議会", AgencyKind.SOCIAL_WELFARE_COUNCIL, "midori"),
    ("fukushi-sogo", "みどり市 福祉総合相談課", AgencyKind.MUNICIPAL_OFFICE, "midori"),
    ("chiiki-fukushi", "みどり市 地域福祉課", AgencyKind.MUNICIPAL_OFFICE, "midori"),
    ("npo-midori-no-ie", "NPO法人みどりの家", AgencyKind.NPO_PRIVATE, "higashi"),
]

STAFF = [
    # username, family name, given name, agency code, role
    ("intake_a", "青木", "春香", "chuo-houkatsu", Role.WORKER),
    ("intake_b", "井上", "健太", "shogai-soudan", Role.WORKER),
    ("member_c", "上田", "真理", "kodomo-katei", Role.WORKER),
    ("outsider", "小川", "翔", "npo-midori-no-ie", Role.WORKER),
    ("coord", "加藤", "由美", "fukushi-sogo", Role.COORDINATOR),
    ("supervisor", "佐々木", "誠", "fukushi-sogo", Role.SUPERVISOR),
    ("chiiki", "森", "早苗", "chiiki-fukushi", Role.COMMUNITY_WELFARE),
    ("admin", "田中", "守", None, Role.SYSTEM_ADMIN),
]


# Each programme's part, after the staff and in the order they build on each other: 2FA needs only
# the staff; 多機関協働 works on the cases; 参加支援 places people at 地域づくり's resources.
PARTS = (
    twofactor.load_twofactor_demo,
    sso.load_sso_demo,
    cases.load_cases_demo,
    meetings.load_meetings_demo,
    outreach.load_outreach_demo,
    community.load_community_demo,
    participation.load_participation_demo,
)


@transaction.atomic
def load_demo() -> dict[str, int]:
    areas = {}
    for code, name, level, parent in AREAS:
        areas[code], _ = Area.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "parent": areas.get(parent)}
        )
    agencies = {}
    for code, name, kind, area in AGENCIES:
        agencies[code], _ = Agency.objects.update_or_create(
            code=code, defaults={"name": name, "kind": kind, "area": areas[area], "is_active": True}
        )
    for username, family, given, agency_code, role in STAFF:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "last_name": family,
                "first_name": given,
                "email": f"{username}@demo.midori.example",
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        agency = agencies.get(agency_code)
        if not StaffMembership.objects.active().filter(user=user, agency=agency, role=role).exists():
            staff_services.membership_grant(user=user, agency=agency, role=role, acting_user=None)
        staff_services.admin_access_sync(user=user, acting_user=None)
        services.notification_send(
            recipient=user,
            title="jusou へようこそ（デモ環境）",
            body="これは架空の自治体「みどり市」のデモ環境です。実在の個人の情報は入力しないでください。",
            kind="info",
            dedupe_key="demo-welcome",
        )
    for loader in PARTS:
        loader()
    return {"areas": len(areas), "agencies": len(agencies), "staff": len(STAFF)}
