from django.apps import AppConfig


class JusouConfig(AppConfig):
    name = "jusou"
    verbose_name = "共通 (職員・機関・お知らせ)"
