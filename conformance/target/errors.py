"""What a target can raise: a missing prerequisite, a refusal, an endpoint it lacks."""

from __future__ import annotations


class ConfigurationError(Exception):
    """The run cannot start as configured (a missing prerequisite, a bad option)."""


class TargetRejected(Exception):
    """The target refused the credentials or answered a fixture request unusably."""


class EndpointMissing(Exception):
    """A fixture endpoint answered 404 or 405: the target does not implement it."""

    def __init__(self, endpoint: str, status: int) -> None:
        super().__init__(f"{endpoint} answered {status}")
        self.endpoint, self.status = endpoint, status

    @property
    def needs(self) -> str:
        """``needs GET /me/ (the target answered 404)``, the start of a not-run reason."""
        return f"needs {self.endpoint} (the target answered {self.status})"
