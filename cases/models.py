# 包括的相談支援事業 (社会福祉法 第106条の4 第2項第1号): consultations, people, households, cases.
# The models arrive with their own issue.
