"""The synthetic municipality (`manage.py generate_municipality`), each programme's part in a module of its own."""
