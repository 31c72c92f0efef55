"""OIDC back-channel logout: what it costs beside the signature check it is built on,
and how often it fetches the provider's keys.

Issue 13's benchmark. A loopback provider (``http.server`` on 127.0.0.1, a free port)
serves a discovery document and a key set of one key per algorithm: RSA 2048 for
RS256 (what Keycloak, Entra ID, Okta and Auth0 sign with by default) and P-256 for
ES256. A pool of logout tokens (1 000 per algorithm; each its own ``jti`` and ``sid``)
is signed with PyJWT before anything is timed. Then, per algorithm, in interleaved
rounds, over the same tokens:

* **bare signature check**: ``jwt.PyJWS().decode(token, key, algorithms=[alg])``,
  PyJWT checking the signature and nothing else, with the very key the middleware
  gets from the key set: the reference;
* **PyJWT decode**: ``jwt.decode(...)`` with ``audience`` and ``issuer``, what an
  application would write to check a JWT (for comparison);
* **signature alone**: PyJWT's algorithm object's ``verify(signing_input, key,
  signature)`` on segments split and decoded beforehand: the cryptography, the floor
  under everything else (for comparison). ``PyJWS().decode`` costs more mostly by
  testing each character of the three segments against the alphabet in Python; the
  middleware reads the segments itself, with one regular expression each
  (:mod:`logout_middleware.oidc.verify`), so its validation can cost less than the
  bare check;
* **validate_logout_token**: :meth:`OIDCLogout.validate_logout_token`, every check of
  Back-Channel Logout 1.0 section 2.6 and the replay cache;
* **back-channel logout**: a ``POST`` of the form ``logout_token=...`` to the
  back-channel path through :class:`LogoutMiddleware` on the memory store, each
  ending the one session linked to the token's ``sid`` (sessions created, labelled
  and the replay cache emptied before each loop, untimed), and the response consumed.

Beside them, for scale, a plain logout (the session cookie ``POST``-ed to the logout
path) through a middleware with the memory store and index: what ending one session
costs the middleware without any token.

The target is a same-run ratio: the back-channel logout costs at most 1.5x the bare
signature check, judged on the median of the per-round ratios (each round times both
side by side, so a machine that slows down for a while slows both). Last, a new
:class:`OIDCLogout` validates the 1 000 RS256 tokens, and its ``jwks_fetches`` counter
(and the provider's own count of requests) must say one fetch of the key set.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from logout_middleware import LogoutMiddleware, MemoryBackend, MemorySessionIndex
from logout_middleware.oidc import BACKCHANNEL_LOGOUT_EVENT, MemoryReplayCache, OIDCLogout

from .apps import bare_app, consume, page_environ, start_response
from .config import Config, log
from .report import Report, Row, Target
from .stores import logout_case
from .timing import Case, Measured, interleave

__all__ = ["JWKS_FETCHES", "RATIO", "TOKENS", "paired_ratio", "run"]

#: A back-channel logout costs at most this many bare signature checks.
RATIO = 1.5
#: Key set fetches allowed for :data:`TOKENS` tokens signed with one key.
JWKS_FETCHES = 1
#: Tokens signed per algorithm (the pool every case draws from).
TOKENS = 1_000
CLIENT_ID = "bench-app"
BACKCHANNEL_PATH = "/oidc/backchannel-logout"
FORM = "application/x-www-form-urlencoded"


# -- the provider --------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        provider = self.server.provider
        provider.requests[self.path] += 1
        found = provider.documents.get(self.path)
        body = json.dumps(found).encode() if found is not None else b"not found"
        self.send_response(200 if found is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: _Provider


@dataclass
class _Provider:
    """One private key per algorithm, and what the provider serves."""

    keys: dict[str, Any]
    documents: dict[str, Any] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    issuer: str = ""

    def kid(self, alg: str) -> str:
        return f"{alg.lower()}-1"


@contextlib.contextmanager
def _provider() -> Iterator[_Provider]:
    provider = _Provider(
        {
            "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ES256": ec.generate_private_key(ec.SECP256R1()),
        }
    )
    server = _Server(("127.0.0.1", 0), _Handler)
    server.provider = provider
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    keys = []
    for alg, private in provider.keys.items():
        entry = json.loads(jwt.get_algorithm_by_name(alg).to_jwk(private.public_key()))
        keys.append({**entry, "kid": provider.kid(alg), "alg": alg, "use": "sig"})
    provider.documents = {
        "/.well-known/openid-configuration": {
            "issuer": provider.issuer,
            "jwks_uri": provider.issuer + "/jwks",
            "backchannel_logout_supported": True,
        },
        "/jwks": {"keys": keys},
    }
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _tokens(provider: _Provider, alg: str, n: int) -> list[str]:
    """``n`` logout tokens signed with the ``alg`` key; token ``i`` names ``sid-i``."""
    now = int(time.time())
    return [
        jwt.encode(
            {
                "iss": provider.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 3600,
                "jti": secrets.token_urlsafe(16),
                "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
                "sid": f"sid-{i}",
            },
            provider.keys[alg],
            algorithm=alg,
            headers={"kid": provider.kid(alg), "typ": "logout+jwt"},
        )
        for i in range(n)
    ]


def _oidc(provider: _Provider) -> OIDCLogout:
    return OIDCLogout(provider.issuer, CLIENT_ID, backchannel_path=BACKCHANNEL_PATH)


# -- the cases -------------------------------------------------------------------------


def _backchannel_environ(token: str) -> dict[str, Any]:
    body = urlencode({"logout_token": token}).encode("ascii")
    environ = page_environ()
    environ.update(
        REQUEST_METHOD="POST",
        PATH_INFO=BACKCHANNEL_PATH,
        RAW_URI=BACKCHANNEL_PATH,
        CONTENT_TYPE=FORM,
        CONTENT_LENGTH=str(len(body)),
    )
    environ["wsgi.input"] = io.BytesIO(body)
    return environ


def _signed_parts(token: str) -> tuple[bytes, bytes]:
    signing_input, _, signature = token.rpartition(".")
    return signing_input.encode("ascii"), base64.urlsafe_b64decode(signature + "==")


def _cases(provider: _Provider, alg: str, tokens: list[str]) -> list[Case]:
    oidc = _oidc(provider)
    oidc.validate_logout_token(tokens[0], remember=False)  # the key set, fetched untimed
    key = oidc.keys.key(provider.kid(alg), alg).key  # the very key the middleware uses
    jws = jwt.PyJWS()

    def bare(n: int) -> None:
        decode = jws.decode
        for token in tokens[:n]:
            decode(token, key, algorithms=[alg])

    def decoded(n: int) -> None:
        for token in tokens[:n]:
            jwt.decode(token, key, algorithms=[alg], audience=CLIENT_ID, issuer=provider.issuer)

    algorithm = jwt.get_algorithm_by_name(alg)
    split = [_signed_parts(token) for token in tokens]

    def signature(n: int) -> None:
        verify = algorithm.verify
        for signing_input, raw in split[:n]:
            verify(signing_input, key, raw)

    def forget(n: int) -> None:
        oidc.replay_cache = MemoryReplayCache()  # so the same tokens are new again

    def validate(n: int) -> None:
        check = oidc.validate_logout_token
        for token in tokens[:n]:
            check(token)

    backend, index = MemoryBackend(), MemorySessionIndex()
    app = LogoutMiddleware(bare_app, backend, index=index, oidc=oidc)
    environs: list[dict[str, Any]] = []

    def sessions(n: int) -> None:
        forget(n)
        environs.clear()
        for i, token in enumerate(tokens[:n]):
            claims = {"iss": provider.issuer, "sub": "user-1", "sid": f"sid-{i}"}
            index.add(backend.create({"user": 1}), 3600, user="1", **oidc.session_labels(claims))
            environs.append(_backchannel_environ(token))

    def backchannel(n: int) -> None:
        sr = start_response
        for environ in environs[:n]:
            consume(app(environ, sr))

    def check() -> None:
        sessions(1)
        answers: list[str] = []

        def record(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answers.append(status)
            return start_response(status, headers)

        consume(app(environs[0], record))
        if answers != ["200 OK"] or len(backend):
            raise RuntimeError(f"the back-channel logout did not end its session: {answers}")

    pool = len(tokens)
    return [
        Case(f"bare signature check, {alg}", bare, max_number=pool),
        Case(f"PyJWT decode, {alg}", decoded, max_number=pool),
        Case(f"signature alone, {alg}", signature, max_number=pool),
        Case(f"validate_logout_token, {alg}", validate, setup=forget, max_number=pool),
        Case(f"back-channel logout, {alg}", backchannel, sessions, max_number=pool, check=check),
    ]


PLAIN = "plain logout, memory store + index"


def _plain_logout() -> Case:
    backend, index = MemoryBackend(), MemorySessionIndex()
    app = LogoutMiddleware(bare_app, backend, index=index)

    def store(n: int) -> list[str]:
        ids = [backend.create({"user": 1}) for _ in range(n)]
        for session_id in ids:
            index.add(session_id, 3600, user="1")
        return ids

    return logout_case(PLAIN, app, store, max_number=TOKENS)


def _report(
    report: Report, results: dict[str, Measured], cases: list[Case], alg: str, plain: float
) -> None:
    bare, decoded, signature, validate, backchannel = (results[c.name] for c in cases)
    ref = bare.median
    report.rows.append(
        Row(
            "oidc",
            cases[0].name,
            ref,
            1 / ref,
            note=f"jwt.PyJWS().decode; noise +-{bare.spread():.0%}",
        )
    )
    for measured, note in (
        (decoded, "jwt.decode with audience and issuer"),
        (signature, "PyJWT's algorithm verify on decoded segments: the cryptography alone"),
        (validate, "every section 2.6 check and the replay cache"),
        (backchannel, "POST through the middleware, memory store, 1 session ended"),
    ):
        report.rows.append(
            Row(
                "oidc",
                measured.name,
                measured.median,
                1 / measured.median,
                measured.median / ref,
                "bare check",
                f"{note}; {(measured.median - ref) * 1e6:+.1f} us; noise +-{measured.spread():.0%}",
            )
        )
    ratio = paired_ratio(backchannel, bare)
    report.targets.append(
        Target(
            f"OIDC: back-channel logout on the memory store / PyJWT's bare signature check, {alg}",
            ratio,
            f"<= {RATIO}",
            ratio <= RATIO,
            f"(medians {backchannel.median * 1e6:.1f} us vs {ref * 1e6:.1f} us; the signature "
            f"alone {signature.median * 1e6:.1f} us, validation {validate.median * 1e6:.1f} us, "
            f"the logout around it {(backchannel.median - validate.median) * 1e6:.1f} us; "
            f"{backchannel.median / signature.median:.2f}x the signature alone; a plain logout "
            f"costs {plain * 1e6:.1f} us)",
        )
    )


def paired_ratio(measured: Measured, reference: Measured) -> float:
    """The median over rounds of ``measured / reference``, each round's pair timed
    side by side."""
    pairs = zip(measured.samples, reference.samples, strict=True)
    return statistics.median(a / b for a, b in pairs)


def _jwks_fetches(report: Report, provider: _Provider, tokens: list[str]) -> None:
    oidc = _oidc(provider)
    before = provider.requests["/jwks"]
    for token in tokens:
        oidc.validate_logout_token(token)
    served = provider.requests["/jwks"] - before
    fetches = oidc.jwks_fetches
    report.raw.setdefault("oidc", {})["jwks"] = {
        "tokens": len(tokens),
        "jwks_fetches": fetches,
        "served": served,
        "discovery_fetches": oidc.discovery_fetches,
    }
    report.targets.append(
        Target(
            f"OIDC: JWKS fetches per {len(tokens):,} tokens signed with one key".replace(",", " "),
            fetches,
            f"<= {JWKS_FETCHES}",
            fetches <= JWKS_FETCHES and served == fetches,
            f"(jwks_fetches {fetches}; the provider served {served}; discovery fetched "
            f"{oidc.discovery_fetches}x)",
        )
    )


def run(config: Config, report: Report) -> None:
    with _provider() as provider:
        t0 = time.perf_counter()
        tokens = {alg: _tokens(provider, alg, TOKENS) for alg in provider.keys}
        log(f"oidc: {TOKENS} tokens per algorithm signed in {time.perf_counter() - t0:.1f} s")
        by_alg = {alg: _cases(provider, alg, pool) for alg, pool in tokens.items()}
        plain = _plain_logout()
        cases = [case for alg_cases in by_alg.values() for case in alg_cases] + [plain]
        for case in cases:
            if case.check is not None:
                case.check()
        log(f"oidc: {len(cases)} cases, interleaved rounds ...")
        results = interleave(cases, rounds=config.rounds, loop_time=config.loop_time, progress=log)
        report.raw.setdefault("oidc", {})["cases"] = {
            c.name: {"median_s": m.median, "number": m.number, "samples": m.samples}
            for c in cases
            for m in [results[c.name]]
        }
        for alg, alg_cases in by_alg.items():
            _report(report, results, alg_cases, alg, results[PLAIN].median)
        measured = results[PLAIN]
        report.rows.append(
            Row(
                "oidc",
                PLAIN,
                measured.median,
                1 / measured.median,
                note=f"for scale: no token; noise +-{measured.spread():.0%}",
            )
        )
        _jwks_fetches(report, provider, tokens["RS256"])
