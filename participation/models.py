# 参加支援事業 (第2号). The models arrive with their own issue.
