"""The one error type of the finance package: bad input, named by its field."""

from __future__ import annotations


class FinanceInputError(ValueError):
    """An input value that makes no financial sense.

    `field` is the dotted path of the offending input (e.g. ``lease.term_months``) so that the CLI, the scenario
    loader and the database adapters can all tell the user exactly what to fix.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")

    def under(self, prefix: str) -> FinanceInputError:
        """The same error with its field path prefixed (used when an input is nested in a larger one)."""
        return FinanceInputError(f"{prefix}.{self.field}", self.reason)
