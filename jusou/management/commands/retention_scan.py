from datetime import date

from django.core.management.base import BaseCommand, CommandError

from jusou.ja.wareki import to_wareki
from jusou.retention import services


class Command(BaseCommand):
    help = (
        "保存年限の確認を今すぐ行います（毎日 02:30 の定期処理と同じ）: 保存期間を過ぎた記録を廃棄候補にし、"
        "満了が近い記録を管理者に知らせます。--dispose で、管理者が承認済みの廃棄も実行します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="この日として確認する（YYYY-MM-DD、検証用）")
        parser.add_argument(
            "--dispose", action="store_true", help="承認済みの廃棄候補の廃棄（匿名化）も実行する"
        )

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError as error:
                raise CommandError("--today は YYYY-MM-DD で指定してください。") from error
        result = services.retention_scan(today=today)
        self.stdout.write(
            f"廃棄候補に追加 {len(result.listed)}件、対象外 {len(result.withdrawn)}件、"
            f"保存延長の期限切れで候補に戻した記録 {len(result.relisted)}件"
        )
        for expires, count in result.upcoming.items():
            self.stdout.write(f"{to_wareki(expires)}に保存期間が満了: {count}件")
        if options["dispose"]:
            disposed = services.dispose_approved()
            self.stdout.write(f"廃棄（匿名化）を実行 {len(disposed)}件")
        self.stdout.write(self.style.SUCCESS("保存年限の確認を終えました。"))
