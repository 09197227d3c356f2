"""The target's secrets, and the Authorization header each named credential gives."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.compat import basic_authorization

WRONG_API_KEY = "sms-conformance-wrong-key"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Secrets for the target; ``repr`` never shows them."""

    api_key: str | None = None
    oauth_token: str | None = None
    second_api_key: str | None = None

    def __repr__(self) -> str:
        given = [
            name for name in ("api_key", "oauth_token", "second_api_key") if getattr(self, name)
        ]
        return f"Credentials(given={given})"

    def secrets(self) -> list[str]:
        return [value for value in (self.api_key, self.oauth_token, self.second_api_key) if value]

    def headers_for(self, auth: str) -> dict[str, str]:
        """Return the Authorization header for the credential named ``auth``."""
        if auth == "none":
            return {}
        if auth == "bearer" or (auth == "basic" and not self.api_key and self.oauth_token):
            if not self.oauth_token:
                raise ValueError("auth='bearer' needs an OAuth token")
            return {"authorization": f"Bearer {self.oauth_token}"}
        key = {
            "basic": self.api_key or "",
            "second-org": self.second_api_key or "",
            "wrong": WRONG_API_KEY,
        }[auth]
        return {"authorization": basic_authorization(key)}
