"""The session index labels of OIDC sessions: a contract between the login, the
back-channel logout and the RP-initiated logout.

At login, the application passes :meth:`OIDCLogout.session_labels` of the ID token to
``index.add(session_id, user=..., **labels)``. The labels are:

``oidc_sub``
    ``"<iss> <sub>"``: the provider's user. A logout token with ``sub`` and no ``sid``
    ends every session labelled so.
``oidc_sid``
    ``"<iss> <sid>"``, when the ID token has a ``sid`` (the provider's session): a
    logout token with ``sid`` ends the sessions labelled so.
``oidc_iss``
    the issuer (its ``sha256:`` digest when over :data:`PART` characters): whose
    session it is, where ``oidc_sub`` and ``oidc_sid`` are digests that do not say.
``oidc_id_token``, ``oidc_id_token_2``, ``oidc_id_token_3``...
    the ID token, when given, for the ``id_token_hint`` of the RP-initiated logout,
    in consecutive parts of at most :data:`PART` characters (the SQL index stores
    label values in ``VARCHAR(255)``); a short token is ``oidc_id_token`` alone. An ID
    token over :data:`MAX_ID_TOKEN` characters is not kept.

The issuer never holds a space (it is a URL), so ``"<iss> <value>"`` is unambiguous.
A value over :data:`PART` characters (a very long ``sub``) is stored as
``"sha256:"`` and the hex SHA-256 of ``"<iss> <value>"``, at login and at logout
alike, so the two always agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

__all__ = [
    "ID_TOKEN",
    "ISS",
    "MAX_ID_TOKEN",
    "PART",
    "SID",
    "SUB",
    "id_token_labels",
    "id_token_of",
    "label_value",
]

#: The label of the provider's session: ``"<iss> <sid>"``.
SID = "oidc_sid"
#: The label of the provider's user: ``"<iss> <sub>"``.
SUB = "oidc_sub"
#: The label of the session's issuer.
ISS = "oidc_iss"
#: The first part of the kept ID token; the next are ``oidc_id_token_2``, ``_3``...
ID_TOKEN = "oidc_id_token"  # noqa: S105 - a label name, not a secret
#: The most characters of one label value (the SQL index's ``VARCHAR(255)``).
PART = 255
#: The longest ID token kept for ``id_token_hint``, in characters.
MAX_ID_TOKEN = 8192


def label_value(issuer: str, value: str | None) -> str:
    """The value of an ``oidc_sid`` or ``oidc_sub`` label: ``"<issuer> <value>"``, or
    its ``sha256:`` digest when that is over :data:`PART` characters; with ``value``
    ``None``, the ``oidc_iss`` label's: the issuer, or its digest."""
    text = issuer if value is None else f"{issuer} {value}"
    if len(text) <= PART:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _part_name(number: int) -> str:
    return ID_TOKEN if number == 1 else f"{ID_TOKEN}_{number}"


def id_token_labels(id_token: str) -> dict[str, str]:
    """The labels that keep ``id_token`` (``{}`` when it is empty or too long)."""
    if not id_token or len(id_token) > MAX_ID_TOKEN:
        return {}
    return {
        _part_name(n): id_token[start : start + PART]
        for n, start in enumerate(range(0, len(id_token), PART), 1)
    }


def id_token_of(labels: Mapping[str, str]) -> str | None:
    """The ID token kept in ``labels`` (its parts joined in order), or ``None``."""
    parts: list[str] = []
    while (part := labels.get(_part_name(len(parts) + 1))) is not None:
        parts.append(part)
    return "".join(parts) or None
