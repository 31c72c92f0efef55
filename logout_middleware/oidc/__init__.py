"""OpenID Connect logout: back-channel logout from the provider, and RP-initiated
logout to it.

:class:`OIDCLogout` holds the settings of one provider and client, checked once, and
does what the middleware asks:

* :meth:`~OIDCLogout.validate_logout_token` validates a back-channel logout token as
  Back-Channel Logout 1.0 section 2.6 says, against the provider's key set (fetched,
  cached, refetched for a new ``kid`` at most once per interval), and returns its
  :class:`LogoutClaims`; ``index.find(*claims.lookup)`` gives the sessions to end;
* :meth:`~OIDCLogout.session_labels` gives the session index labels of a new session
  from its ID token (the contract is in :mod:`logout_middleware.oidc.labels`);
* :meth:`~OIDCLogout.logout_url` gives the provider's end-session URL for a session,
  from its labels.

It needs PyJWT with its crypto extra (``pip install 'logout-middleware[oidc]'``),
imported when an :class:`OIDCLogout` is built: importing this module needs nothing.
"""

from __future__ import annotations

from .algorithms import DEFAULT_ALGORITHMS
from .claims import BACKCHANNEL_LOGOUT_EVENT, LogoutClaims
from .errors import InvalidLogoutToken, ProviderError
from .labels import ID_TOKEN, ISS, SID, SUB
from .logout import OIDCLogout
from .replay import MemoryReplayCache, ReplayCache, RevocationReplayCache, replay_key

__all__ = [
    "BACKCHANNEL_LOGOUT_EVENT",
    "DEFAULT_ALGORITHMS",
    "ID_TOKEN",
    "ISS",
    "SID",
    "SUB",
    "InvalidLogoutToken",
    "LogoutClaims",
    "MemoryReplayCache",
    "OIDCLogout",
    "ProviderError",
    "ReplayCache",
    "RevocationReplayCache",
    "replay_key",
]
