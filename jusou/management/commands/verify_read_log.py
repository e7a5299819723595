from django.core.management.base import BaseCommand, CommandError

from jusou.audit.readlog import read_log_verify
from jusou.ja.wareki import local_text


class Command(BaseCommand):
    help = "閲覧記録のハッシュチェーンを検証し、改ざん・削除があれば最初に壊れた行を報告します。"

    def handle(self, *args, **options):
        checked, broken = read_log_verify()
        if broken is not None:
            raise CommandError(
                f"閲覧記録のチェーンが壊れています: 行 #{broken.pk}（{local_text(broken.at)}）。"
                f"それ以前の {checked} 行は正常です。"
            )
        self.stdout.write(
            self.style.SUCCESS(f"閲覧記録 {checked} 行のチェーンを確認しました。改ざんはありません。")
        )
