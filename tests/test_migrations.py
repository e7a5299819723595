"""Migrations give the same result whatever the application code says later: a data migration carries
its own copy of what it writes, and a change to a seed list arrives as a migration of its own."""

import ast
from pathlib import Path

import pytest

from cases.codes import CODES
from cases.models import Code

ROOT = Path(__file__).resolve().parents[1]
APPS = {"cases", "jusou", "meetings", "outreach", "participation", "community"}
#: referenced by field definitions (validators, a choices callable), never run to produce data
FIELD_OPTIONS = {"jusou.plausible", "jusou.registry"}


def migration_files():
    return sorted(p for app in APPS for p in (ROOT / app / "migrations").glob("0*.py"))


@pytest.mark.parametrize("path", migration_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_migration_runs_no_application_code(path):
    tree = ast.parse(path.read_text())
    top_level = set(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            if module.split(".")[0] not in APPS:
                continue
            assert node in top_level and module in FIELD_OPTIONS, (
                f"{path.name} imports {module}: copy what it needs into the migration"
            )


@pytest.mark.django_db
def test_a_fresh_database_has_exactly_the_seed_code_lists():
    """cases.codes (the demo and the generator re-seed from it) and migration 0002's frozen copy agree;
    a change to the list needs a data migration that brings existing databases along."""
    seeded = {}
    for row in Code.objects.order_by("kind", "order"):
        seeded.setdefault(row.kind, []).append((row.code, row.label))
    assert seeded == {kind: list(entries) for kind, entries in CODES.items()}
