"""保存年限 (retention) and disposal (DOMAIN.md §8).

Each record type's retention is set by the municipality's 文書管理規程 (typically 5 or 10 years from
closure): a RetentionPolicy row per type, edited by the システム管理者. The apps declare their types
and what disposing a unit means among their AppConfig's contributions (jusou.registry.RetentionType,
RetentionCascade, PersonRetentionHold), since jusou imports no app.

A daily job (jusou.tasks.retention_daily) lists the records past retention as DisposalCandidates; a
管理者 approves their disposal or keeps them (保存延長, with a reason); only approved candidates are
disposed. Disposal anonymises, it does not delete: the personal fields of the unit's rows — and of
their history rows, through a narrow path in the PostgreSQL guard (jusou.audit.guard) — are replaced,
uploaded files are removed, and the rows with their codes, dates, agencies and statuses stay, so the
statistics do not change. The candidate row, with its own history, is the record of the act.

Modules: models (policy, candidate), anonymise (the field rules and the history path), services
(scan, approve, keep, execute), selectors, views (the 管理者's pages under 監査).
"""
