"""地域づくり in the みどり市 demo (fictional): a dozen resources over three 圏域, activities, a
platform, coordinator activity, and the 居場所 gap from the 重層的支援会議 developed into a new place.

Places run by an agency with staff in the demo name it as 運営する機関, so its 相談員 keep them: the
NPO法人みどりの家 (`outsider`) its two places, みどり中央地域包括支援センター (`intake_a`) its 認知症カフェ.
The register's keepers are `coord` (相談支援包括化推進員) and `chiiki` (地域福祉担当)."""

from datetime import timedelta

from django.utils import timezone

from community import services
from community.models import CommunityResource
from jusou.models import Agency, Area, ResourceGap, ResourceGapStatus, User

RESOURCES = [
    # name, kind, area code, operator, operating agency code, days, accepts participants, participation kinds, capacity, partner
    (
        "みどり中央子ども食堂",
        "kodomo_shokudo",
        "chuo-1",
        "みどり中央子ども食堂の会",
        None,
        [2, 5],
        True,
        ["volunteer", "ibasho"],
        3,
        True,
    ),
    ("ふれあいサロン中央", "salon", "chuo-1", "中央一丁目町会", None, [1], False, [], None, False),
    (
        "中央通いの場「いきいき体操」",
        "kayoi",
        "chuo",
        "みどり市社会福祉協議会",
        "shakyo",
        [0, 3],
        True,
        ["volunteer"],
        2,
        True,
    ),
    (
        "オレンジカフェ中央",
        "dementia_cafe",
        "chuo",
        "みどり中央地域包括支援センター",
        "chuo-houkatsu",
        [4],
        False,
        [],
        None,
        False,
    ),
    ("中央一丁目町会", "neighbourhood", "chuo-1", "中央一丁目町会", None, [], False, [], None, False),
    (
        "東こども食堂ひまわり",
        "kodomo_shokudo",
        "higashi-sho",
        "NPO法人みどりの家",
        "npo-midori-no-ie",
        [3],
        True,
        ["learning", "ibasho"],
        2,
        True,
    ),
    (
        "東子育てひろば",
        "childcare_plaza",
        "higashi",
        "みどり子ども家庭支援センター",
        "kodomo-katei",
        [0, 1, 2, 3, 4],
        False,
        [],
        None,
        False,
    ),
    (
        "みどり農園（農福連携）",
        "work_experience",
        "higashi",
        "みどり農園株式会社",
        None,
        [1, 3, 5],
        True,
        ["agriculture", "work_trial"],
        2,
        True,
    ),
    (
        "東地域活動支援センター",
        "activity_center",
        "higashi",
        "社会福祉法人みどり会",
        None,
        [0, 1, 2, 3, 4],
        True,
        ["intermediate_work"],
        3,
        True,
    ),
    (
        "西ボランティアセンター",
        "npo",
        "nishi",
        "みどり市社会福祉協議会",
        "shakyo",
        [0, 2, 4],
        True,
        ["volunteer"],
        5,
        True,
    ),
    ("西二丁目ふれあいサロン", "salon", "nishi-2", "西二丁目自治会", None, [2], False, [], None, False),
    (
        "西まちかど学習室",
        "ibasho",
        "nishi-2",
        "NPO法人みどりの家",
        "npo-midori-no-ie",
        [1, 4],
        True,
        ["learning"],
        0,
        False,
    ),
]


def load_community_demo() -> None:
    if CommunityResource.objects.filter(name=RESOURCES[0][0]).exists():
        return
    keeper = User.objects.get(username="coord")
    worker = User.objects.get(username="intake_a")
    areas = {area.code: area for area in Area.objects.all()}
    agencies = {agency.code: agency for agency in Agency.objects.all()}
    made = {}
    for name, kind, area, operator, agency, days, accepts, kinds, capacity, partner in RESOURCES:
        made[name] = services.resource_save(
            acting_user=keeper,
            name=name,
            kind=kind,
            area=areas[area],
            operator=operator,
            operating_agency=agencies.get(agency),
            days=days,
            schedule="、".join("月火水木金土日"[d] for d in days) + "曜" if days else "随時",
            accepts_participants=accepts,
            participation_kinds=kinds,
            capacity=capacity,
            is_partner=partner,
            public_description=f"{name}は、地域の誰もが立ち寄れる場です。",
            target="どなたでも",
            internal_notes="代表者が高齢で、後継者を探している" if name == "東こども食堂ひまわり" else "",
        )
    today = timezone.localdate()
    for weeks in range(4):
        services.activity_record(
            acting_user=keeper,
            resource=made["みどり中央子ども食堂"],
            held_on=today - timedelta(weeks=weeks),
            participants=28 + weeks,
            participant_visits=35 + weeks,
            organisations="中央小学校PTA、民生委員",
            local_issues="一人で来る中学生が増えている" if weeks == 0 else "",
        )
    services.activity_record(
        acting_user=worker,
        resource=made["オレンジカフェ中央"],
        held_on=today - timedelta(days=3),
        participants=12,
        participant_visits=12,
        organisations="家族の会",
    )
    services.platform_record(
        acting_user=worker,
        held_on=today - timedelta(days=14),
        name="中央圏域 地域づくり会議",
        area=areas["chuo"],
        participants=24,
        organisations="町会、民生委員、社協、包括、商店会",
        outcomes="中高年が気軽に立ち寄れる居場所づくりを検討することになった",
    )
    services.coordinator_activity_record(
        acting_user=worker,
        done_on=today - timedelta(days=7),
        area=areas["chuo"],
        kind="connect",
        content="子ども食堂とみどり農園をつなぎ、野菜の提供が始まった",
    )
    # The 居場所 gap from the 重層的支援会議 (meetings demo, stored with its 中央圏域) becomes a new place.
    gap = ResourceGap.objects.filter(category="居場所", status=ResourceGapStatus.NOTED).first()
    if gap is not None:
        services.gap_advance(
            gap=gap,
            to_status=ResourceGapStatus.CONSIDERING,
            acting_user=keeper,
            reason="地域づくり会議で検討",
        )
        place = services.resource_save(
            acting_user=keeper,
            name="中高年の居場所「ひだまり」",
            kind="ibasho",
            area=areas["chuo"],
            operator="みどり市社会福祉協議会",
            operating_agency=agencies.get("shakyo"),
            days=[2],
            schedule="水曜 13時〜16時",
            accepts_participants=True,
            participation_kinds=["ibasho"],
            capacity=4,
            is_partner=True,
            public_description="ひきこもりがちな中高年の方が、ゆっくり過ごせる場です。",
        )
        services.gap_advance(
            gap=gap,
            to_status=ResourceGapStatus.DEVELOPED,
            acting_user=keeper,
            reason="居場所を開設",
            resources=[place],
        )
    # A gap noticed in 地域づくり itself, waiting for a host: 開拓 can start from it.
    services.gap_record(
        acting_user=worker,
        category="就労体験先",
        area=areas["chuo"],
        description="平日の午前に短時間から働ける体験先が中央圏域に少ない",
    )
