"""Session ids in signed cookies: Flask-Session's ``SESSION_USE_SIGNER``.

Needs the ``signed`` extra: ``pip install logout-middleware[signed]`` (itsdangerous).

With ``SESSION_USE_SIGNER = True`` Flask-Session stores ``sid + "." + signature`` in
the cookie, signed with ``itsdangerous.Signer(app.secret_key, salt="flask-session",
key_derivation="hmac")``. :func:`signed_session_id` builds the matching extractor for
:class:`~logout_middleware.LogoutMiddleware`::

    from logout_middleware.signing import signed_session_id

    app.wsgi_app = LogoutMiddleware(
        app.wsgi_app,
        backend=RedisBackend("redis://127.0.0.1:6379/0"),
        session_id_from_cookie=signed_session_id(app.secret_key),
    )

A cookie whose signature does not verify names no session: the extractor returns
``None``, so nothing is deleted (a forged cookie cannot delete someone else's record),
the cookie is still expired, and nothing is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["signed_session_id"]

_MISSING_ITSDANGEROUS = (
    "signed_session_id needs itsdangerous: pip install logout-middleware[signed] "
    "(or pip install itsdangerous)"
)

SecretKey = str | bytes


def signed_session_id(
    secret_key: SecretKey | Iterable[SecretKey],
    *,
    salt: str | bytes = "flask-session",
    key_derivation: str = "hmac",
    digest_method: Any = None,
    sep: str = ".",
) -> Callable[[str], str | None]:
    """Return ``extract(cookie_value) -> session_id | None`` for signed session ids.

    :param secret_key: the application's secret key (Flask's ``SECRET_KEY``), or a
        list of keys, oldest first, to accept cookies signed with a retired key too.
    :param salt: itsdangerous salt; Flask-Session uses ``"flask-session"``.
    :param key_derivation: itsdangerous key derivation; Flask-Session uses ``"hmac"``.
    :param digest_method: the hash for the signature; ``None`` is itsdangerous'
        default (SHA-1, as Flask-Session uses).
    :param sep: the separator between id and signature.

    The extractor returns the unsigned id, or ``None`` when the value is not signed
    with one of the keys (or the id is empty or not UTF-8). It never raises for a
    bad cookie.

    :raises ImportError: when itsdangerous is not installed, naming the extra.
    :raises ValueError: when no usable secret key is given.
    """
    try:
        from itsdangerous import BadSignature, Signer
    except ImportError as exc:  # pragma: no cover - itsdangerous is a dev dependency
        raise ImportError(_MISSING_ITSDANGEROUS) from exc
    if isinstance(secret_key, (str, bytes)):
        keys: list[Any] = [secret_key]
    else:
        try:
            keys = list(secret_key)
        except TypeError:
            keys = []
    if not keys or not all(isinstance(k, (str, bytes)) and k for k in keys):
        raise ValueError(
            "secret_key must be the application's non-empty secret key (str or bytes), "
            "or a non-empty list of them"
        )
    # itsdangerous encodes str keys as UTF-8 itself; bytes keep mypy's types simple.
    key_bytes = [k.encode("utf-8") if isinstance(k, str) else k for k in keys]
    signer = Signer(
        key_bytes, salt=salt, key_derivation=key_derivation, digest_method=digest_method, sep=sep
    )

    def extract(value: str) -> str | None:
        try:
            session_id = signer.unsign(value).decode("utf-8")
        except (BadSignature, UnicodeError):
            return None
        return session_id or None

    return extract
