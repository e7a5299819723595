"""Seed values of the code lists (DOMAIN.md §6). Administrators may add entries; codes never change.

Used by the demo loader and the generator (which re-seed idempotently, so that a flushed test
database still has them). Migration 0002 seeded a frozen copy of this list: a change here needs a
data migration of its own to reach existing databases.
"""

CODES = {
    "channel": [
        ("visit_office", "来所"),
        ("phone", "電話"),
        ("home_visit", "訪問"),
        ("email", "メール"),
        ("online", "オンライン"),
        ("document", "文書"),
        ("other", "その他"),
    ],
    "route": [
        ("self", "本人"),
        ("family", "家族・親族"),
        ("neighbour", "知人・近隣"),
        ("minsei", "民生委員・児童委員"),
        ("houkatsu", "地域包括支援センター"),
        ("disability_consultation", "障害相談支援事業所"),
        ("child_family", "子ども家庭センター"),
        ("shakyo", "社会福祉協議会"),
        ("municipal", "福祉事務所・庁内他課"),
        ("hello_work", "ハローワーク"),
        ("medical", "医療機関"),
        ("school", "学校"),
        ("police", "警察"),
        ("lifeline", "ライフライン事業者"),
        ("support_meeting", "支援会議"),
        ("other", "その他"),
    ],
    "attribute": [
        ("elderly", "高齢"),
        ("disability_physical", "障害（身体）"),
        ("disability_intellectual", "障害（知的）"),
        ("disability_mental", "障害（精神）"),
        ("disability_developmental", "障害（発達）"),
        ("intractable_disease", "障害（難病）"),
        ("child", "子ども・子育て"),
        ("poverty", "生活困窮"),
        ("other", "その他・不明"),
    ],
    "issue": [
        ("health", "病気・健康・障害"),
        ("housing", "住まい"),
        ("income", "収入・生活費"),
        ("rent_loan", "家賃・ローン"),
        ("tax_utilities", "税・公共料金"),
        ("debt", "債務"),
        ("job_search", "仕事探し"),
        ("work_trouble", "仕事上のトラブル"),
        ("community_relations", "地域との関係"),
        ("family_relations", "家族との関係"),
        ("childcare", "子育て"),
        ("care", "介護"),
        ("hikikomori", "ひきこもり・不登校"),
        ("abuse", "DV・虐待"),
        ("no_food", "食べるものがない"),
        ("8050", "8050"),
        ("young_carer", "ヤングケアラー"),
        ("double_care", "ダブルケア"),
        ("isolation", "社会的孤立"),
        ("hoarding", "ごみ屋敷・セルフネグレクト"),
        ("suicide_risk", "自殺リスク"),
        ("foreign_language", "外国籍・言語"),
        ("other", "その他"),
    ],
    "close_reason": [
        ("goal_achieved", "目標達成"),
        ("lead_agency", "主担当機関へ移行"),
        ("person_wish", "本人の希望"),
        ("other_system", "他制度へ移行（生活保護等）"),
        ("moved_away", "市外転居"),
        ("hospital_facility", "入院・入所"),
        ("death", "死亡"),
    ],
    "suspend_reason": [
        ("lost_contact", "連絡途絶"),
        ("refused", "支援拒否"),
        ("whereabouts_unknown", "所在不明"),
    ],
}


def seed_code_lists(code_model) -> None:
    """Create or relabel the seed entries; entries administrators added are left alone."""
    for kind, entries in CODES.items():
        for order, (code, label) in enumerate(entries, start=1):
            code_model.objects.update_or_create(
                kind=kind, code=code, defaults={"label": label, "order": order * 10}
            )
