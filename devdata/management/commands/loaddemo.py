from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devdata.demo.api_client import DEMO_CLIENT, load_demo_api_client
from devdata.demo.twofactor import demo_announcement
from devdata.demo.world import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "架空の自治体「みどり市」のデモデータを作成・更新します（何度実行しても同じ結果になります）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="DEBUG=false でも実行する（本番データベースには使わないこと）",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG が無効です。デモデータは既知のパスワードを持つアカウントを作るため、本番環境では実行しません。"
                "検証環境で意図して実行する場合は --force を付けてください。"
            )
        counts = load_demo()
        api_token = load_demo_api_client()  # a fresh token each run; the earlier demo token ends
        self.stdout.write(
            self.style.SUCCESS(
                f"みどり市のデモデータを用意しました（圏域 {counts['areas']}、機関 {counts['agencies']}、"
                f"職員 {counts['staff']}）。"
            )
        )
        if settings.DEBUG:
            self.stdout.write(f"デモ用パスワード: {DEMO_PASSWORD}（ユーザー名は README を参照）")
            self.stdout.write("\n".join(demo_announcement()))
            self.stdout.write(f"API連携システム「{DEMO_CLIENT}」のトークン（デモ用）: {api_token}")
