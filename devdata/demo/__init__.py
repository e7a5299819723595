"""The みどり市 demo world (`manage.py loaddemo`), each programme's part in a module of its own."""
