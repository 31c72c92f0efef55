"""The settings of a logout middleware as they were built, read-only: what the WSGI
middleware and its ASGI twin both show of themselves, from their decision core and
their ender."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .backends.base import RevocationStore, SessionBackend, SessionIndex
    from .cookies import CookieSpec
    from .core import LogoutCore
    from .ending import SessionEnder
    from .guards import CsrfGuard, OriginGuard
    from .oidc import OIDCLogout

__all__ = ["SettingsView"]


class SettingsView:
    """Read-only properties over ``core`` and ``ender``, set by the subclass."""

    core: LogoutCore
    ender: SessionEnder

    @property
    def paths(self) -> tuple[str, ...]:
        """The logout paths, compared exactly with the request's path under the mount
        point (``SCRIPT_NAME``, ``root_path``)."""
        return self.core.paths

    @property
    def backend(self) -> SessionBackend | None:
        """The session store (``None`` for cookie-only sessions with revocation)."""
        return self.ender.backend

    @property
    def index(self) -> SessionIndex | None:
        """The session index, if any."""
        return self.ender.index

    @property
    def revocation(self) -> RevocationStore | None:
        """The revocation store, if any."""
        return None if self.core.revocation is None else self.core.revocation.store

    @property
    def oidc(self) -> OIDCLogout | None:
        """The OpenID Connect logout, if any."""
        return self.ender.oidc

    @property
    def everywhere_path(self) -> str | None:
        """The log out everywhere path, if any."""
        return self.core.everywhere_paths[0] if self.core.everywhere_paths else None

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods that log out, upper case."""
        return self.core.methods

    @property
    def cookie(self) -> CookieSpec:
        """The session cookie as it was set: every attribute the browser matches on."""
        return self.core.cookie

    @property
    def expired_cookies(self) -> tuple[CookieSpec, ...]:
        """Every cookie expired on logout, session cookie first."""
        return self.core.expiry.cookies

    @property
    def origin_guard(self) -> OriginGuard | None:
        """The cross-site defence, ``None`` when switched off."""
        return self.core.origin_guard

    @property
    def csrf_guard(self) -> CsrfGuard | None:
        """The double-submit token check, ``None`` unless configured."""
        return self.core.csrf_guard

    @property
    def redirect_to(self) -> str | None:
        """Where the browser goes after logout; ``None``: Studio's JSON answer."""
        return None if self.core.redirects is None else self.core.redirects.redirect_to

    @property
    def session_id_from_cookie(self) -> Callable[[str], str | None] | None:
        """Turns the cookie value into the session id; ``None``: the value itself."""
        return self.core.session_id_from_cookie

    def _user_to_end(self, user: str) -> str:
        """``user`` for :meth:`end_user_sessions`, once the settings allow it."""
        if self.ender.index is None:
            raise ValueError("end_user_sessions needs index=... (a SessionIndex)")
        if not isinstance(user, str) or not user:
            raise ValueError(f"user must be a non-empty string such as 'alice'; got {user!r}")
        return user
