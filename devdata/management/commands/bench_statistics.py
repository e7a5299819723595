"""manage.py bench_statistics [--consultations N] [--generate] [--month YYYY-MM] [--fiscal-year YYYY]

Times jusou.reports.statistics.statistics_report over a generated municipality: with --generate, consultations
(and their 課題 rows) are bulk-created until at least N exist, spread over the last 10 年度 across the
agencies; then the report for one month and one 年度 is computed 5 times each as a supervisor, and the
median time and the number of queries are printed as a table and as one JSON line.

The synthetic rows are marked (主訴「ベンチマーク用」, people named 「ベンチマーク用 …」) and written with
bulk_create in batches of 10,000 without history: they are not records of anyone. `--delete` removes
them again — only rows that carry the mark *and* have no history, so a real record whose 主訴 happens to
read 「ベンチマーク用」 is never touched. Generating and deleting write to the database: with DEBUG off
(a real deployment) they refuse unless --force says this database is a test copy. Timing alone only reads.
The command lives in `cases` because it writes consultations (jusou imports no app).
"""

import json
import random
import statistics as stats
import time
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Code, CodeKind, Consultation, ConsultationOutcome, Person
from jusou.ja.text import normalize_for_search
from jusou.ja.wareki import fiscal_year
from jusou.models import Agency, AgencyKind, Role, User
from jusou.reports.statistics import StatisticsParams, statistics_report

MARK = "ベンチマーク用"
BATCH = 10_000
RUNS = 5
YEARS = 10
#: one person in four consults again; one consultation in five is anonymous
PEOPLE_PER_CONSULTATION = 0.25
ANONYMOUS_SHARE = 0.2


class Command(BaseCommand):
    help = "統計（statistics_report）の所要時間を、生成した大量の相談受付で計測します。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--consultations", type=int, default=500_000, help="相談受付の件数（少なくともこの数）"
        )
        parser.add_argument("--generate", action="store_true", help="足りない相談受付を生成する")
        parser.add_argument("--month", help="計測する月 YYYY-MM（既定: 先月）")
        parser.add_argument("--fiscal-year", type=int, help="計測する年度（既定: 前年度）")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--delete", action="store_true", help="生成したベンチマーク用の記録を削除して終わる"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="DEBUG=false でも生成・削除する（試験用にコピーしたデータベースに限る）",
        )

    def handle(self, *args, **options):
        if (options["generate"] or options["delete"]) and not (settings.DEBUG or options["force"]):
            raise CommandError(
                "DEBUG=false（本番の設定）では記録を生成・削除しません。"
                "試験用にコピーしたデータベースであれば --force を付けてください。"
            )
        if options["delete"]:
            self._delete()
            return
        if options["generate"]:
            self._generate(options["consultations"], random.Random(options["seed"]))  # noqa: S311 - synthetic data, not secrets
        total = Consultation.objects.count()
        if total < options["consultations"]:
            self.stderr.write(
                f"相談受付が {total:,} 件しかありません（--generate で {options['consultations']:,} 件まで生成できます）。"
            )
        today = timezone.localdate()
        last_month = today.replace(day=1) - timedelta(days=1)
        month = options["month"] or last_month.strftime("%Y-%m")
        year = options["fiscal_year"] or fiscal_year(today) - 1
        reader = _supervisor()
        results = {
            "database": connection.vendor,
            "consultations": total,
            "month": month,
            "fiscal_year": year,
        }
        for key, query in (
            ("month", {"period": "month", "month": month}),
            ("fiscal_year", {"period": "fiscal", "fiscal_year": str(year)}),
        ):
            try:
                params = StatisticsParams.from_query(query)
            except ValidationError as error:
                raise CommandError(f"期間の指定が正しくありません: {' '.join(error.messages)}") from error
            seconds, queries, figure = _time(reader, params)
            results[f"{key}_median_seconds"] = round(seconds, 4)
            results[f"{key}_queries"] = queries
            results[f"{key}_consultations_counted"] = figure
        self._print(results)

    # --- output ---

    def _print(self, r):
        rows = [
            ("データベース", r["database"]),
            ("相談受付（全件）", f"{r['consultations']:,}"),
            (f"月 {r['month']}: 中央値（{RUNS}回）", f"{r['month_median_seconds']:.3f} 秒"),
            (f"月 {r['month']}: クエリ数", str(r["month_queries"])),
            (f"月 {r['month']}: 新規受付件数", f"{r['month_consultations_counted']:,}"),
            (f"{r['fiscal_year']}年度: 中央値（{RUNS}回）", f"{r['fiscal_year_median_seconds']:.3f} 秒"),
            (f"{r['fiscal_year']}年度: クエリ数", str(r["fiscal_year_queries"])),
            (f"{r['fiscal_year']}年度: 新規受付件数", f"{r['fiscal_year_consultations_counted']:,}"),
        ]
        self.stdout.write("| 項目 | 結果 |\n|---|---|")
        for label, value in rows:
            self.stdout.write(f"| {label} | {value} |")
        self.stdout.write(json.dumps({"bench_statistics": r}, ensure_ascii=False))

    # --- generation ---

    def _generate(self, wanted: int, rng: random.Random) -> None:
        missing = wanted - Consultation.objects.count()
        if missing <= 0:
            self.stdout.write(f"相談受付はすでに {wanted:,} 件以上あります。生成しません。")
            return
        agencies = (
            list(Agency.objects.filter(is_active=True).values_list("pk", flat=True)) or _bench_agencies()
        )
        codes = _codes()
        recorder = _recorder()
        people = self._people(int(missing * PEOPLE_PER_CONSULTATION), agencies, rng)
        start = timezone.make_aware(
            datetime.combine(date(fiscal_year(timezone.localdate()) - YEARS + 1, 4, 1), datetime.min.time())
        )
        span = (timezone.now() - start).total_seconds()
        through = Consultation.issues.through
        made, began = 0, time.monotonic()
        while made < missing:
            size = min(BATCH, missing - made)
            rows, issues = [], []
            for _ in range(size):
                chosen = rng.sample(
                    codes[CodeKind.ISSUE], min(rng.choice((1, 1, 2, 3)), len(codes[CodeKind.ISSUE]))
                )
                issues.append(chosen)
                anonymous = rng.random() < ANONYMOUS_SHARE
                rows.append(
                    Consultation(
                        agency_id=rng.choice(agencies),
                        received_at=start + timedelta(seconds=rng.random() * span),
                        recorded_by_id=recorder,
                        channel_id=rng.choice(codes[CodeKind.CHANNEL]),
                        route_id=rng.choice(codes[CodeKind.ROUTE]),
                        person_id=None if anonymous else rng.choice(people),
                        main_issue_id=chosen[0],
                        summary=MARK,
                        outcome=ConsultationOutcome.ADVICE,
                    )
                )
            with transaction.atomic():
                created = Consultation.objects.bulk_create(rows, batch_size=BATCH)
                through.objects.bulk_create(
                    [
                        through(consultation_id=c.pk, code_id=code_id)
                        for c, chosen in zip(created, issues, strict=True)
                        for code_id in chosen
                    ],
                    batch_size=BATCH,
                )
            made += size
            self.stdout.write(f"  {made:,} / {missing:,} 件を生成（{time.monotonic() - began:.1f} 秒）")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ANALYZE cases_consultation; ANALYZE cases_consultation_issues; ANALYZE cases_person"
                )

    def _people(self, count: int, agencies: list[int], rng: random.Random) -> list[int]:
        existing = list(Person.objects.filter(name__startswith=MARK).values_list("pk", flat=True))
        missing = max(count - len(existing), 0)
        for offset in range(0, missing, BATCH):
            batch = []
            for n in range(offset, min(offset + BATCH, missing)):
                name = f"{MARK} {len(existing) + n + 1:07d}"
                batch.append(
                    Person(
                        name=name,
                        name_search=normalize_for_search(name),
                        kana_search="",
                        registered_by_agency_id=rng.choice(agencies),
                    )
                )
            with transaction.atomic():
                existing += [p.pk for p in Person.objects.bulk_create(batch, batch_size=BATCH)]
        return existing or [None]

    def _delete(self) -> None:
        # The synthetic rows were written without history; anything with history is a real record.
        consultations = Consultation.objects.filter(summary=MARK, case__isnull=True).exclude(
            pk__in=Consultation.history.values("id")
        )
        with transaction.atomic():
            Consultation.issues.through.objects.filter(consultation__in=consultations).delete()
            deleted, _ = consultations.delete()
            people, _ = (
                Person.objects.filter(name__startswith=MARK, consultations__isnull=True, cases__isnull=True)
                .exclude(pk__in=Person.history.values("id"))
                .delete()
            )
        self.stdout.write(f"ベンチマーク用の相談受付 {deleted:,} 件と本人 {people:,} 人を削除しました。")


def _time(reader, params) -> tuple[float, int, int]:
    """Median seconds of RUNS reports, the queries of one, and its 新規受付件数 (a sanity check)."""
    times = []
    for run in range(RUNS):
        if run == 0:
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                report = statistics_report(reader, params)
                times.append(time.perf_counter() - began)
            queries = len(captured.captured_queries)
        else:
            began = time.perf_counter()
            report = statistics_report(reader, params)
            times.append(time.perf_counter() - began)
    intake = next(t for t in report.tables() if t.title == "相談受付")
    return stats.median(times), queries, intake.rows[0].values[0]


def _supervisor() -> User:
    """A reader with the supervisor's view (the whole municipality), held in memory only: the benchmark
    must not add a supervisor account to a real database."""
    reader = User(username="bench-statistics-reader", last_name=MARK)
    reader.__dict__["active_memberships"] = []
    reader.__dict__["roles"] = frozenset({Role.SUPERVISOR})
    return reader


def _recorder() -> int:
    """The account the synthetic consultations name as 受付者: inactive, no password, no role."""
    user, created = User.objects.get_or_create(
        username="bench-statistics", defaults={"last_name": MARK, "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user.pk


def _bench_agencies() -> list[int]:
    return [
        Agency.objects.get_or_create(
            code=f"bench-{n}", defaults={"name": f"{MARK} 機関{n}", "kind": AgencyKind.OTHER}
        )[0].pk
        for n in range(1, 9)
    ]


def _codes() -> dict[str, list[int]]:
    codes = {}
    for kind in (CodeKind.CHANNEL, CodeKind.ROUTE, CodeKind.ISSUE):
        codes[kind] = list(Code.objects.filter(kind=kind, is_active=True).values_list("pk", flat=True))
        if not codes[kind]:
            codes[kind] = [
                Code.objects.get_or_create(kind=kind, code=f"bench-{n}", defaults={"label": f"{MARK}{n}"})[
                    0
                ].pk
                for n in range(1, 6)
            ]
    return codes
