"""The `breach` command runner for the audit tests."""

from tests.cli_support import breach  # noqa: F401  (fixture)
