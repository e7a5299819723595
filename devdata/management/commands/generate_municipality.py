import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from devdata.generate import cases, community, meetings, outreach, participation
from devdata.generate.core import PASSWORD, GenerationContext, generate_core, generate_finish

# Each programme's part after the core's (圏域, agencies, staff), in the order they build on each other.
GENERATORS = (
    cases.generate_cases,
    meetings.generate_meetings,
    outreach.generate_outreach,
    community.generate_community,
    participation.generate_participation,
)


class Command(BaseCommand):
    help = (
        "架空の大規模自治体（みどり市）の合成データを、シードから再現可能に作成します（性能試験用）。"
        "--population 900000 で特別区規模（本人20万人・相談50万件・ケース10万件）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--population", type=int, default=900_000, help="人口（既定 900000。9000 で1%%）")
        parser.add_argument(
            "--seed", type=int, default=1, help="乱数のシード（同じシード・同じ日付なら同じデータ）"
        )
        parser.add_argument(
            "--as-of", default="", help="データの終わる日（YYYY-MM-DD、既定は今日）。再現性の確認用"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="DEBUG=false でも実行する（本番データベースには使わないこと）",
        )

    def handle(self, *args, population, seed, as_of="", force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG が無効です。合成データは既知のパスワードを持つアカウントを作るため、本番環境では実行しません。"
                "検証環境で意図して実行する場合は --force を付けてください。"
            )
        if not 900 <= population <= 10_000_000:
            raise CommandError("--population は 900〜10000000 で指定してください。")
        from cases.models import Person

        if Person.objects.exists():
            raise CommandError(
                "このデータベースにはすでに本人のデータがあります。合成データは空のデータベース"
                "（migrate 直後）にだけ作成します。別のデータベースを作るか、作り直してから実行してください。"
            )
        try:
            today = date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError:
            raise CommandError("--as-of は YYYY-MM-DD で指定してください。") from None

        def out(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        ctx = GenerationContext(seed=seed, population=population, today=today, out=out)
        ctx.elapsed()
        started = time.monotonic()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Synthetic data: losing the last commits in a crash costs a re-run, not data.
                cursor.execute("SET synchronous_commit = off")
        out(
            f"みどり市（人口 {population:,}、シード {seed}、{today:%Y-%m-%d} まで）の合成データを作成します。"
        )
        generate_core(ctx)
        for generator in GENERATORS:
            generator(ctx)
        generate_finish(ctx)
        if connection.vendor == "postgresql":
            with ctx.step("統計情報の更新（ANALYZE）"), connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        total = time.monotonic() - started
        out("")
        out("所要時間（手順ごと）:")
        for label, seconds, counts in ctx.timings:
            out(f"  {seconds:8.1f}秒  {label}（{sum(counts.values()):,}行）")
        out(f"  {total:8.1f}秒  合計")
        out("")
        out(f"ベンチマーク用の利用者・データ（パスワードはすべて {PASSWORD}）:")
        for label, value in ctx.fixtures:
            out(f"  {label}: {value}")
        self.stdout.write(self.style.SUCCESS(f"完了しました（{total:.0f}秒）。"))
