"""地域づくり in the みどり市 demo (fictional): a dozen resources over three 圏域, activities, a
platform, coordinator activity, and the 居場所 gap from the 重層的支援会議 developed into a new place."""

from datetime import timedelta

from django.utils import timezone

from community import services
from community.models import CommunityResource
from jusou.models import Area, ResourceGap, ResourceGapStatus, User

RESOURCES = [
    # name, kind, area code, operator, days, accepts participants, participation kinds, capacity, partner
    ("みどり中央子ども食堂", "kodomo_shokudo", "chuo-1", "みどり中央子ども食堂の会", [2, 5], True, ["volunteer", "ibasho"], 3, True),
    ("ふれあいサロン中央", "salon", "chuo-1", "中央一丁目町会", [1], False, [], None, False),
    ("中央通いの場「いきいき体操」", "kayoi", "chuo", "みどり市社会福祉協議会", [0, 3], True, ["volunteer"], 2, True),
    ("オレンジカフェ中央", "dementia_cafe", "chuo", "みどり中央地域包括支援センター", [4], False, [], None, False),
    ("中央一丁目町会", "neighbourhood", "chuo-1", "中央一丁目町会", [], False, [], None, False),
    ("東こども食堂ひまわり", "kodomo_shokudo", "higashi-sho", "NPO法人みどりの家", [3], True, ["learning", "ibasho"], 2, True),
    ("東子育てひろば", "childcare_plaza", "higashi", "みどり子ども家庭支援センター", [0, 1, 2, 3, 4], False, [], None, False),
    ("みどり農園（農福連携）", "work_experience", "higashi", "みどり農園株式会社", [1, 3, 5], True, ["agriculture", "work_trial"], 2, True),
    ("東地域活動支援センター", "activity_center", "higashi", "社会福祉法人みどり会", [0, 1, 2, 3, 4], True, ["intermediate_work"], 3, True),
    ("西ボランティアセンター", "npo", "nishi", "みどり市社会福祉協議会", [0, 2, 4], True, ["volunteer"], 5, True),
    ("西二丁目ふれあいサロン", "salon", "nishi-2", "西二丁目自治会", [2], False, [], None, False),
    ("西まちかど学習室", "ibasho", "nishi-2", "NPO法人みどりの家", [1, 4], True, ["learning"], 0, False),
]  # fmt: skip


def load_community_demo() -> None:
    if CommunityResource.objects.filter(name=RESOURCES[0][0]).exists():
        return
    worker = User.objects.get(username="intake_a")
    areas = {area.code: area for area in Area.objects.all()}
    made = {}
    for name, kind, area, operator, days, accepts, kinds, capacity, partner in RESOURCES:
        made[name] = services.resource_save(
            acting_user=worker, name=name, kind=kind, area=areas[area], operator=operator, days=days,
            schedule="、".join("月火水木金土日"[d] for d in days) + "曜" if days else "随時",
            accepts_participants=accepts, participation_kinds=kinds, capacity=capacity, is_partner=partner,
            public_description=f"{name}は、地域の誰もが立ち寄れる場です。", target="どなたでも",
        )  # fmt: skip
    today = timezone.localdate()
    for weeks in range(4):
        services.activity_record(acting_user=worker, resource=made["みどり中央子ども食堂"],
                                 held_on=today - timedelta(weeks=weeks), participants=28 + weeks,
                                 participant_visits=35 + weeks, organisations="中央小学校PTA、民生委員",
                                 local_issues="一人で来る中学生が増えている" if weeks == 0 else "")  # fmt: skip
    services.platform_record(acting_user=worker, held_on=today - timedelta(days=14), name="中央圏域 地域づくり会議",
                             area=areas["chuo"], participants=24, organisations="町会、民生委員、社協、包括、商店会",
                             outcomes="中高年が気軽に立ち寄れる居場所づくりを検討することになった")  # fmt: skip
    services.coordinator_activity_record(acting_user=worker, done_on=today - timedelta(days=7), area=areas["chuo"],
                                         kind="connect", content="子ども食堂とみどり農園をつなぎ、野菜の提供が始まった")  # fmt: skip
    # The 居場所 gap from the 重層的支援会議 (meetings demo) becomes a new place.
    gap = ResourceGap.objects.filter(category="居場所", status=ResourceGapStatus.NOTED).first()
    if gap is not None:
        services.gap_advance(gap=gap, to_status=ResourceGapStatus.CONSIDERING, acting_user=worker,
                             reason="地域づくり会議で検討")  # fmt: skip
        place = services.resource_save(
            acting_user=worker, name="中高年の居場所「ひだまり」", kind="ibasho", area=areas["chuo"],
            operator="みどり市社会福祉協議会", days=[2], schedule="水曜 13時〜16時", accepts_participants=True,
            participation_kinds=["ibasho"], capacity=4, is_partner=True,
            public_description="ひきこもりがちな中高年の方が、ゆっくり過ごせる場です。",
        )  # fmt: skip
        services.gap_advance(gap=gap, to_status=ResourceGapStatus.DEVELOPED, acting_user=worker,
                             reason="居場所を開設", resource=place)  # fmt: skip
