# 地域づくり事業 (第3号). Holds no personal case data. The models arrive with their own issue.
