from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cases.models import Code


@admin.register(Code)
class CodeAdmin(SimpleHistoryAdmin):
    """Code lists: administrators add entries and retire them; a code, once used, never changes."""

    list_display = ["kind", "label", "code", "order", "is_active"]
    list_filter = ["kind", "is_active"]
    list_editable = ["order", "is_active"]
    search_fields = ["label", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["kind", "code"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False
