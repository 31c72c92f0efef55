"""PyJWT, imported once with a message naming the extra when it is missing."""

from __future__ import annotations

try:
    import jwt as jwt
except ImportError as exc:  # pragma: no cover - PyJWT is a dev dependency
    raise ImportError(
        "logout_middleware.oidc needs PyJWT with its crypto extra: "
        "pip install 'logout-middleware[oidc]' (or pip install 'PyJWT[crypto]>=2.8')"
    ) from exc

__all__ = ["jwt"]
