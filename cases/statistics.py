"""包括的相談支援 in the statistics (DOMAIN.md §7): consultations and cases, counted in the database over
the records the scope allows (jusou.reports.statistics). A fixed number of queries, whatever the data."""

from django.db.models import Count, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from cases.models import (
    Case,
    CaseStatus,
    CaseTransition,
    Code,
    CodeKind,
    Consultation,
    ConsultationOutcome,
    NoteKind,
    Person,
    ProgressNote,
)
from jusou.reports.statistics import RATE_COLUMN, StatisticsScope, count_table
from jusou.reports.tables import Ref, Relation, Row, Table, adds_up, at_most

SECTION = "包括的相談支援"
INTAKE = "相談受付"
NEW_INTAKES = "新規受付件数"
PEOPLE = "新規受付 実人数（本人が分かる相談）"
ANONYMOUS = "うち匿名の相談"
CONTINUING = "継続相談（支援経過記録の面談・電話・訪問・同行）"
TOTAL_CONTACTS = "延べ相談件数"
#: the number of consultations, which every breakdown of them adds up to
INTAKES = Ref(NEW_INTAKES, table=INTAKE)
CASES_AT_END = "支援ケース 状態別（期間末時点）"
CASE_MOVES = "支援ケースの開始・終結・中断"
#: 支援経過記録 that are a consultation with the person (a 記録 alone is not)
CONSULTATION_NOTE_KINDS = [NoteKind.INTERVIEW, NoteKind.PHONE, NoteKind.VISIT, NoteKind.ACCOMPANY]


def _codes() -> dict[str, list[tuple[int, str]]]:
    """Every code list entry by kind (one query): rows for retired entries stay so old periods add up."""
    codes: dict[str, list[tuple[int, str]]] = {kind: [] for kind in CodeKind.values}
    for pk, kind, label, active in Code.objects.order_by("kind", "order", "code").values_list(
        "pk", "kind", "label", "is_active"
    ):
        codes[kind].append((pk, label if active else f"{label}（廃止）"))
    return codes


def _grouped(queryset, key: str, count: str = "pk", distinct: bool = False) -> dict:
    return {
        row[key]: row["n"]
        for row in queryset.order_by().values(key).annotate(n=Count(count, distinct=distinct))
    }


def consultations_in(scope: StatisticsScope):
    """Consultations received in the period by an agency the reader may count. Filtered by the receiving
    agency even for the whole municipality: the (agency, received_at) index then answers a month with a
    range scan per agency instead of reading every consultation ever received."""
    return Consultation.objects.filter(
        scope.during("received_at"), agency_id__in=scope.agency_queryset().values("pk")
    )


def case_status_at(moment):
    """A case's status just before `moment`: the last move before it, or 受付 if it had not moved."""
    last = (
        CaseTransition.objects.filter(case=OuterRef("pk"), at__lt=moment)
        .order_by("-at", "-pk")
        .values("to_status")[:1]
    )
    return Coalesce(Subquery(last), Value(CaseStatus.RECEIVED))


def cases_by_status_at(cases, moment) -> dict:
    """Counts of `cases` opened before `moment` by their status just before it. A case's status changes
    only by a move (CaseTransition), so one that has not moved since has its current status: only the
    cases that moved later need their history looked up (two grouped queries, not one probe per case)."""
    cases = cases.filter(opened_at__lt=moment)
    moved_later = Exists(CaseTransition.objects.filter(case=OuterRef("pk"), at__gte=moment))
    counts = _grouped(cases.filter(~moved_later), "status")
    earlier = _grouped(cases.filter(moved_later).annotate(status_at=case_status_at(moment)), "status_at")
    for status, n in earlier.items():
        counts[status] = counts.get(status, 0) + n
    return counts


def consultation_statistics(scope: StatisticsScope) -> tuple[str, list[Table]]:
    codes = _codes()
    consultations = consultations_in(scope)
    totals = consultations.aggregate(
        n=Count("pk"),
        people=Count("person", distinct=True),
        anonymous=Count("pk", filter=Q(person__isnull=True)),
    )
    notes = ProgressNote.objects.filter(
        scope.during("occurred_at"), scope.agencies("case__owning_agency"), kind__in=CONSULTATION_NOTE_KINDS
    ).count()
    total_contacts = totals["n"] + notes
    intake = Table(
        INTAKE,
        ["件数", RATE_COLUMN],
        [
            Row(NEW_INTAKES, [totals["n"], scope.rate(totals["n"])]),
            Row(PEOPLE, [totals["people"], scope.rate(totals["people"])]),
            Row(ANONYMOUS, [totals["anonymous"], None]),
            Row(CONTINUING, [notes, None]),
            Row(TOTAL_CONTACTS, [total_contacts, scope.rate(total_contacts)]),
        ],
        note=(
            "新規受付件数は期間内の相談受付の件数、実人数は同じ本人を1人と数えた人数です（匿名の相談は含みません）。"
            "延べ相談件数は新規受付件数に、主担当機関の支援経過記録のうち面談・電話・訪問・同行の件数を加えたものです。"
            + scope.rate_note
        ),
        relations=[
            adds_up(TOTAL_CONTACTS, [NEW_INTAKES, CONTINUING]),
            # each identified consultation has one person, and a person may consult more than once
            at_most([PEOPLE, ANONYMOUS], NEW_INTAKES),
        ],
    )

    issues = Consultation.issues.through.objects.filter(consultation_id__in=consultations.values("pk"))
    issue_counts = _grouped(issues, "code_id")
    main_issue_counts = _grouped(consultations, "main_issue_id")
    issue_rows = range(len(codes[CodeKind.ISSUE]))
    by_issue = Table(
        "課題分類別 相談件数",
        ["件数（複数回答）", "うち主な課題"],
        [
            Row(label, [issue_counts.get(pk, 0), main_issue_counts.get(pk, 0)])
            for pk, label in codes[CodeKind.ISSUE]
        ]
        + [Row("相談件数（実件数）", [totals["n"], sum(main_issue_counts.values())])],
        multiple_answers=True,
        note="1件の相談に複数の課題があるときは、それぞれの課題に1件ずつ数えます。最後の行は相談の件数です。",
        # Every consultation has one main issue among its issues (one or more, each counted once).
        relations=[
            adds_up(Ref(-1, 0), [INTAKES]),
            adds_up(Ref(-1, 1), [INTAKES]),
            adds_up(Ref(-1, 1), [Ref(i, 1) for i in issue_rows]),
            Relation((Ref(-1, 0),), tuple(Ref(i, 0) for i in issue_rows), at_most=True),
            *(at_most([Ref(i, 1)], Ref(i, 0)) for i in issue_rows),
            *(at_most([Ref(i, 0)], Ref(-1, 0)) for i in issue_rows),
        ],
    )

    # 属性 belong to the person (現在の登録内容); counted once per person who consulted in the period.
    attributes = Person.attributes.through.objects.filter(person_id__in=consultations.values("person_id"))
    attribute_counts = _grouped(attributes, "code_id", "person_id", distinct=True)
    by_attribute = Table(
        "属性別 実人数",
        ["人数（複数回答）"],
        [Row(label, [attribute_counts.get(pk, 0)]) for pk, label in codes[CodeKind.ATTRIBUTE]]
        + [Row("実人数（本人が分かる相談）", [totals["people"]])],
        multiple_answers=True,
        note="期間内に相談のあった本人を、本人に登録されている現在の属性で数えています（匿名の相談は含みません）。",
        relations=[
            adds_up(-1, [Ref(PEOPLE, table=INTAKE)]),
            *(at_most([i], -1) for i in range(len(codes[CodeKind.ATTRIBUTE]))),
        ],
    )

    tables = [
        intake,
        count_table(
            "相談経路別 件数",
            "件数",
            codes[CodeKind.ROUTE],
            _grouped(consultations, "route_id"),
            same_as=INTAKES,
        ),
        count_table(
            "相談手段別 件数",
            "件数",
            codes[CodeKind.CHANNEL],
            _grouped(consultations, "channel_id"),
            same_as=INTAKES,
        ),
        by_attribute,
        by_issue,
        count_table(
            "対応区分別 件数",
            "件数",
            ConsultationOutcome.choices,
            _grouped(consultations, "outcome"),
            same_as=INTAKES,
        ),
        *_case_tables(scope, codes),
    ]
    if scope.by:
        tables.append(_breakdown(scope))
    return SECTION, tables


def _case_tables(scope: StatisticsScope, codes) -> list[Table]:
    cases = Case.objects.filter(scope.agencies("owning_agency"))
    at_end = cases_by_status_at(cases, scope.end)
    opened = cases.filter(scope.during("opened_at")).count()
    transitions = CaseTransition.objects.filter(scope.during("at"), scope.agencies("case__owning_agency"))
    suspended = _grouped(transitions.filter(to_status=CaseStatus.SUSPENDED), "case__suspend_reason_id")
    resumed = transitions.filter(from_status=CaseStatus.SUSPENDED).count()
    # Each 終結 in the period, from the state machine's record: a case closed with 主担当機関へ移行 and
    # continued at the next agency (終結 → 支援中 on acceptance) still counts as closed that month, under
    # the reason the case keeps.
    closed_by_reason = _grouped(transitions.filter(to_status=CaseStatus.CLOSED), "case__close_reason_id")
    suspend_labels = [*codes[CodeKind.SUSPEND_REASON], (None, "その後再開したもの（理由は履歴を参照）")]
    return [
        count_table(
            CASES_AT_END,
            "件数",
            CaseStatus.choices,
            at_end,
            note="期間の末日の終わりの時点での状態です（状態の変更記録から求めています）。",
        ),
        Table(
            CASE_MOVES,
            ["件数"],
            [
                Row("新規開始", [opened]),
                Row("終結", [sum(closed_by_reason.values())]),
                Row("中断", [sum(suspended.values())]),
                Row("中断からの再開", [resumed]),
            ],
            note="主担当機関で数えています。",
        ),
        count_table(
            "終結理由別 件数",
            "件数",
            codes[CodeKind.CLOSE_REASON],
            closed_by_reason,
            same_as=Ref("終結", table=CASE_MOVES),
        ),
        count_table(
            "中断理由別 件数",
            "件数",
            suspend_labels,
            suspended,
            same_as=Ref("中断", table=CASE_MOVES),
            note="中断の理由はケースに記録されている現在の理由です。その後再開したケースの理由は変更履歴で確認できます。",
        ),
    ]


def _breakdown(scope: StatisticsScope) -> Table:
    """The main consultation counts with one column per 中圏域 (by=area) or per agency (by=agency): one
    grouped query, the column decided in the database from the receiving agency."""
    columns = scope.group_columns()
    grouped = {
        row["column"]: row
        for row in consultations_in(scope)
        .order_by()
        .annotate(column=scope.group_expression("agency"))
        .values("column")
        .annotate(
            n=Count("pk"),
            people=Count("person", distinct=True),
            anonymous=Count("pk", filter=Q(person__isnull=True)),
        )
    }

    def line(label, key):
        return Row(label, [grouped.get(column, {}).get(key, 0) for column, _ in columns])

    kind = "圏域" if scope.by == "area" else "機関"
    each = range(len(columns))
    people = Ref(PEOPLE, table=INTAKE)
    return Table(
        f"相談受付 {kind}別",
        [heading for _, heading in columns],
        [line(NEW_INTAKES, "n"), line(PEOPLE, "people"), line(ANONYMOUS, "anonymous")],
        note=(
            "受付機関の所在する中圏域で分けています（機関の圏域が小圏域ならその上の中圏域）。"
            if scope.by == "area"
            else "受付機関ごとの件数です。"
        ),
        # Every consultation falls in one column; a person who consulted in two columns counts in both.
        relations=[
            adds_up(INTAKES, [Ref(0, c) for c in each]),
            adds_up(Ref(ANONYMOUS, table=INTAKE), [Ref(2, c) for c in each]),
            Relation((people,), tuple(Ref(1, c) for c in each), at_most=True),
            *(at_most([Ref(1, c)], people) for c in each),
            *(at_most([Ref(1, c), Ref(2, c)], Ref(0, c)) for c in each),
        ],
    )
