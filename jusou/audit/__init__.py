"""The audit trail: the read log, the history guard, history and access-log pages (docs/adr/0003)."""
