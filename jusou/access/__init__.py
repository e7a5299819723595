"""Who may see what: the grant ledger, visible_q, access decisions and field policies (docs/adr/0001)."""
