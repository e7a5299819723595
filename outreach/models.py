# アウトリーチ等を通じた継続的支援事業 (第4号). The models arrive with their own issue.
