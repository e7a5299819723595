# 多機関協働事業 and 支援プラン (第5号・第6号): referrals, 支援会議, 重層的支援会議, plans.
# The models arrive with their own issue.
