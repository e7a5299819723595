"""Seed values of the code lists (DOMAIN.md §6). Administrators may add entries; codes never change."""

from django.db import migrations

from cases.codes import seed_code_lists


def seed(apps, schema_editor):
    seed_code_lists(apps.get_model("cases", "Code"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
