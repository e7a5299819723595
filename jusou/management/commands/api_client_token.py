from django.core.management.base import BaseCommand, CommandError

from jusou.api.auth import token_issue
from jusou.models import ApiClient


class Command(BaseCommand):
    help = "API連携システムのトークンを発行します（表示は一度だけ。保存されるのはハッシュのみ）。"

    def add_arguments(self, parser):
        parser.add_argument("name", help="システム名（管理画面の「API連携システム」）")
        parser.add_argument("--days", type=int, default=None, help="有効日数（既定: API_TOKEN_DAYS）")

    def handle(self, *args, name, days=None, **options):
        client = ApiClient.objects.filter(name=name).select_related("user").first()
        if client is None or not client.is_active:
            raise CommandError(f"有効なAPI連携システム「{name}」が見つかりません。")
        if days is not None and not 1 <= days <= 366:
            raise CommandError("--days は 1〜366 で指定してください。")
        instance, token = token_issue(user=client.user, days=days)
        self.stdout.write(f"{client.name} のトークン（{instance.expiry:%Y-%m-%d} まで有効）:")
        self.stdout.write(token)
