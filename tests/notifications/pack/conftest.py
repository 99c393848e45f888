"""The `breach` command runner for the evidence-pack tests."""

from tests.cli_support import breach  # noqa: F401  (fixture)
