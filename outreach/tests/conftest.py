from cases.tests.conftest import World, code, fresh, world  # noqa: F401  (the cases personas, reused)
