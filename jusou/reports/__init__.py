"""統計: the figures of each 事業, the suppression rule, charts and the statistics pages."""
