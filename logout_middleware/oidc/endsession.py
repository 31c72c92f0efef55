"""The RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0): where the
browser goes after the local logout, so the provider ends its session too and does not
sign the user straight back in."""

from __future__ import annotations

import secrets
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

__all__ = ["end_session_url"]


def end_session_url(
    endpoint: str,
    *,
    client_id: str,
    post_logout_redirect_uri: str | None,
    id_token_hint: str | None,
    state: str | None,
) -> str:
    """``endpoint`` with the logout request in its query: ``client_id``,
    ``post_logout_redirect_uri`` when set, ``id_token_hint`` when known, and ``state``
    (a new random one when ``None``). A query the endpoint already has is kept as
    written (each parameter's own spelling, ``flag`` without ``=`` too), minus any of
    those names."""
    params = [("client_id", client_id)]
    if post_logout_redirect_uri is not None:
        params.append(("post_logout_redirect_uri", post_logout_redirect_uri))
    if id_token_hint is not None:
        params.append(("id_token_hint", id_token_hint))
    params.append(("state", secrets.token_urlsafe(16) if state is None else state))
    parts = urlsplit(endpoint)
    ours = {name for name, _ in params}
    kept = [
        field
        for field in parts.query.split("&")
        if field and unquote_plus(field.partition("=")[0]) not in ours
    ]
    return urlunsplit(parts._replace(query="&".join([*kept, urlencode(params)])))
