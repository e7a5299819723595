"""お知らせ: notices to staff, in the bell and by e-mail."""
