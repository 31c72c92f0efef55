"""The providers of docs/oidc.rst, reproduced on the loopback OpenID Provider exactly as
their source code or official documentation shows them: the discovery document, the
key set, the logout token's header and claims, what the end-session endpoint asks.
Each profile cites where its shape comes from; a detail no source gave is left out, or
every possibility of it is tested (said where). Then ``OIDCLogout`` configured as the
page's section says must accept each genuine token, end the right sessions through
``LogoutMiddleware`` and build a logout URL that provider takes.

Only loopback is reachable: nothing here contacts the services themselves.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from oidc_provider import EVENT, OpenIDProvider, SigningKey, b64
from webtest import TestApp
from wsgi_util import hello_app

from logout_middleware import LogoutMiddleware, MemoryBackend, MemorySessionIndex
from logout_middleware.oidc import InvalidLogoutToken, OIDCLogout, ProviderError

BACKCHANNEL = "/oidc/backchannel-logout"
AFTER = "http://127.0.0.1:8000/signed-out"


class World:
    """An application set up as docs/oidc.rst says: sessions labelled at login, and the
    middleware answering the provider's back-channel logouts."""

    def __init__(self, oidc: OIDCLogout) -> None:
        self.oidc = oidc
        self.backend = MemoryBackend()
        self.index = MemorySessionIndex()
        self.app = TestApp(LogoutMiddleware(hello_app, self.backend, index=self.index, oidc=oidc))

    def login(self, issued: tuple[str, Mapping[str, Any]]) -> str:
        """A session labelled with the ID token ``(token, claims)`` it signed in with."""
        id_token, claims = issued
        session_id: str = self.backend.create({"sub": claims["sub"]})
        labels = self.oidc.session_labels(claims, id_token=id_token)
        self.index.add(session_id, 3600, user=claims["sub"], **labels)
        return session_id

    def backchannel(self, token: str) -> dict[str, Any]:
        body = urlencode({"logout_token": token})
        response = self.app.post(
            BACKCHANNEL, body, content_type="application/x-www-form-urlencoded"
        )
        assert response.headers["Cache-Control"] == "no-store"
        answer: dict[str, Any] = json.loads(response.body)
        return answer


def configured(provider: OpenIDProvider, **settings: Any) -> OIDCLogout:
    """``OIDCLogout`` as the page's first example: the issuer and the client id, every
    endpoint from discovery."""
    settings.setdefault("timeout", 3)
    return OIDCLogout(provider.issuer, provider.client_id, **settings)


def jws(header: bytes, claims: Mapping[str, Any], key: SigningKey, alg: str) -> str:
    """A compact JWS whose header is these very bytes: providers do not all write JSON
    as Python does (Keycloak puts spaces around some colons)."""
    payload = json.dumps(dict(claims), separators=(",", ":")).encode()
    signing_input = f"{b64(header)}.{b64(payload)}".encode("ascii")
    return f"{signing_input.decode()}.{b64(key.sign(signing_input, alg))}"


_CERTIFICATES: dict[int, bytes] = {}


def x509_members(private_key: Any) -> dict[str, Any]:
    """``x5c``, ``x5t`` and ``x5t#S256`` of a self-signed certificate of the key, as
    Keycloak and authentik publish them (base64 DER; base64url SHA-1 and SHA-256)."""
    der = _CERTIFICATES.get(id(private_key))
    if der is None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "studio")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(private_key, hashes.SHA256())
        )
        der = _CERTIFICATES[id(private_key)] = certificate.public_bytes(Encoding.DER)
    return {
        "x5c": [base64.b64encode(der).decode()],
        "x5t": b64(hashlib.sha1(der).digest()),
        "x5t#S256": b64(hashlib.sha256(der).digest()),
    }


def publish(
    provider: OpenIDProvider, kid: str, *, certificate: bool = True, **members: Any
) -> dict[str, Any]:
    """Publish the key ``kid`` with a provider's members only: without PyJWT's
    ``key_ops``, with its certificate (``x5c``, ``x5t``, ``x5t#S256``) unless
    ``certificate`` is false, and ``members`` (``None`` removes one). Returns the entry."""
    key = provider.keys[kid]
    chain = x509_members(key.private_key) if certificate else {}
    key.extra = {"key_ops": None, **chain, **members}
    return key.jwk()


def query(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


# =====================================================================================
# Keycloak. Sources, in keycloak/keycloak:
# * discovery: services/src/main/java/org/keycloak/protocol/oidc/OIDCWellKnownProvider.java
#   (issuer Urls.realmIssuer, <base>/realms/<realm>; jwks_uri and the logout endpoint
#   under .../protocol/openid-connect/, "certs" and "logout"; backchannel_logout_supported
#   and backchannel_logout_session_supported true) and
#   .../protocol/oidc/representations/OIDCConfigurationRepresentation.java (the logout
#   endpoint is the "end_session_endpoint" member);
# * key set: .../protocol/oidc/utils/JWKSServerUtils.java (every enabled key that has a
#   public key, with its kid, alg, use and certificate chain), core/src/main/java/org/
#   keycloak/jose/jwk/JWK.java (kid, kty, alg, use, x5c, x5t, x5t#S256); a new realm
#   gets an RS256 signing key and an encryption key ("use": "enc", "alg": "RSA-OAEP" by
#   default): server-spi-private/.../models/utils/DefaultKeyProviders.java,
#   services/.../keys/GeneratedRsaEncKeyProviderFactory.java, keys/Attributes.java;
# * logout token: DefaultTokenManager.initLogoutToken (services/.../jose/jws/): jti, iat,
#   exp = iat + 120 s since 23.0.4 and 22.0.8 (PR #25769 for issue #25753, before: no
#   exp), iss, aud = the client id, events {backchannel-logout: {}} plus
#   "revoke_offline_access": true when the client revokes offline sessions, sid (the
#   user session's id) when "Backchannel logout session required", sub = the user's id;
#   core/.../representations/LogoutToken.java: a "typ": "Logout" claim;
#   JsonWebToken.java with json/StringOrArraySerializer.java: one audience is written
#   as a string; util/JsonSerialization.java: absent members left out;
# * header: core/.../jose/jws/JWSBuilder.java encodeHeader writes
#   {"alg":"RS256","typ" : "<typ>","kid" : "<kid>"}; typ "JWT" (DefaultTokenManager.encode)
#   until Keycloak 25, "logout+jwt" from 25 (PR #29260 for issue #28939); the alg is
#   the client's ID token signature algorithm, else the realm's default (RS256);
# * RP-initiated logout: .../protocol/oidc/endpoints/LogoutEndpoint.java.
# =====================================================================================

KC_REALM = "/realms/studio"
KC_PROTOCOL = KC_REALM + "/protocol/openid-connect"
KC_USER = "7f1c7a3e-5d0b-4c1e-9a55-2f6a3d9b8c01"  # a Keycloak user id (a UUID)


def keycloak(alg: str = "RS256") -> OpenIDProvider:
    """A Keycloak realm: its encryption key (listed first) and its signing key."""
    provider = OpenIDProvider(
        (),
        issuer_path=KC_REALM,
        client_id="studio",
        jwks_path=KC_PROTOCOL + "/certs",
        end_session_path=KC_PROTOCOL + "/logout",
    )
    enc = provider.add_key("RS256", sign=False)
    publish(provider, enc, use="enc", alg="RSA-OAEP")
    kid = provider.add_key(alg)
    publish(provider, kid)
    return provider


def keycloak_id_token(provider: OpenIDProvider, session: str) -> tuple[str, dict[str, Any]]:
    """An ID token as Keycloak issues it (IDToken.java: sid is the user session's id;
    azp, the client; a "typ": "ID" claim)."""
    return provider.id_token(
        sub=KC_USER, sid=session, claims={"azp": provider.client_id, "typ": "ID"}
    )


def keycloak_logout_token(
    provider: OpenIDProvider,
    *,
    typ: str = "logout+jwt",
    sid: str | None = "a1b2c3d4-user-session",
    exp: bool = True,
    revoke_offline: bool = False,
) -> str:
    now = int(time.time())
    events: dict[str, Any] = {EVENT: {}}
    if revoke_offline:
        events["revoke_offline_access"] = True
    claims: dict[str, Any] = {"jti": secrets.token_urlsafe(24)}
    if exp:
        claims["exp"] = now + 120
    claims.update(iat=now, iss=provider.issuer, aud=provider.client_id, sub=KC_USER)
    claims["typ"] = "Logout"
    if sid is not None:
        claims["sid"] = sid
    claims["events"] = events
    key = provider.keys[provider.signing_kid]
    header = f'{{"alg":"{key.alg}","typ" : "{typ}","kid" : "{key.kid}"}}'.encode()
    return jws(header, claims, key, key.alg)


def keycloak_takes(params: Mapping[str, list[str]], id_token_claims: Mapping[str, Any]) -> bool:
    """What LogoutEndpoint.logout checks before it logs out (legacy redirect_uri off, the
    default): no redirect_uri; a post_logout_redirect_uri needs id_token_hint or
    client_id; with both, client_id must be the ID token's azp."""
    if "redirect_uri" in params:
        return False
    has_hint, has_client = "id_token_hint" in params, "client_id" in params
    if "post_logout_redirect_uri" in params and not (has_hint or has_client):
        return False
    return not (has_hint and has_client) or params["client_id"] == [id_token_claims["azp"]]


KEYCLOAK_RELEASES = {
    # name: (typ header, exp claim)
    "22.0.0-23.0.3": ("JWT", False),
    "23.0.4-24": ("JWT", True),
    "25-and-later": ("logout+jwt", True),
}


@pytest.fixture(scope="module")
def kc() -> Iterator[OpenIDProvider]:
    with keycloak() as provider:
        yield provider


def test_keycloak_discovery_gives_the_realm_endpoints_and_backchannel_support(
    kc: OpenIDProvider,
) -> None:
    oidc = configured(kc)
    metadata = oidc.discovery.metadata()
    assert metadata.issuer == kc.base + "/realms/studio"
    assert metadata.jwks_uri == kc.base + "/realms/studio/protocol/openid-connect/certs"
    assert oidc.end_session_endpoint() == kc.base + KC_PROTOCOL + "/logout"
    doc = metadata.document
    assert doc["backchannel_logout_supported"] is doc["backchannel_logout_session_supported"]
    assert doc["backchannel_logout_supported"] is True
    enc, sig = kc.jwks()["keys"]
    common = {"kid", "kty", "alg", "use", "n", "e", "x5c", "x5t", "x5t#S256"}
    assert set(enc) == set(sig) == common
    assert (enc["use"], enc["alg"], sig["use"], sig["alg"]) == ("enc", "RSA-OAEP", "sig", "RS256")


@pytest.mark.parametrize("release", KEYCLOAK_RELEASES, ids=list(KEYCLOAK_RELEASES))
def test_keycloak_logout_token_of_each_release_is_accepted(
    kc: OpenIDProvider, release: str
) -> None:
    typ, exp = KEYCLOAK_RELEASES[release]
    token = keycloak_logout_token(kc, typ=typ, exp=exp)
    raw = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert raw == f'{{"alg":"RS256","typ" : "{typ}","kid" : "{kc.signing_kid}"}}'.encode()
    claims = configured(kc).validate_logout_token(token)
    assert (claims.sid, claims.sub) == ("a1b2c3d4-user-session", KC_USER)
    assert claims.claims["typ"] == "Logout" and claims.claims["aud"] == "studio"
    assert (claims.expires_at is not None) is exp


def test_keycloak_revoke_offline_access_event_member_is_accepted(kc: OpenIDProvider) -> None:
    token = keycloak_logout_token(kc, revoke_offline=True)
    claims = configured(kc).validate_logout_token(token)
    assert claims.claims["events"]["revoke_offline_access"] is True


def test_keycloak_rsa_oaep_encryption_key_never_verifies(kc: OpenIDProvider) -> None:
    enc = next(k for k in kc.keys.values() if k.jwk()["use"] == "enc")
    token = keycloak_logout_token(kc)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    forged = jws(f'{{"alg":"RS256","kid" : "{enc.kid}"}}'.encode(), claims, enc, "RS256")
    oidc = configured(kc)
    with pytest.raises(InvalidLogoutToken, match="no key in the provider's key set"):
        oidc.validate_logout_token(forged)
    assert oidc.validate_logout_token(token).sub == KC_USER  # the signing key does


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256"])
def test_keycloak_logout_token_signed_with_the_clients_id_token_algorithm_is_accepted(
    alg: str,
) -> None:
    with keycloak(alg) as provider:
        token = keycloak_logout_token(provider)
        assert configured(provider).validate_logout_token(token).sub == KC_USER


def test_keycloak_logout_ends_that_user_session_only_through_the_middleware(
    kc: OpenIDProvider,
) -> None:
    world = World(configured(kc))
    mine = [world.login(keycloak_id_token(kc, "us-1")) for _ in range(2)]
    other = world.login(keycloak_id_token(kc, "us-2"))
    answer = world.backchannel(keycloak_logout_token(kc, sid="us-1"))
    assert answer == {"message": "OK", "ended": 2}
    assert not any(s in world.backend for s in mine) and other in world.backend


def test_keycloak_without_backchannel_logout_session_required_ends_every_session_of_the_user(
    kc: OpenIDProvider,
) -> None:
    world = World(configured(kc))
    sessions = [world.login(keycloak_id_token(kc, f"us-{i}")) for i in range(3)]
    assert world.backchannel(keycloak_logout_token(kc, sid=None))["ended"] == 3
    assert not any(s in world.backend for s in sessions)


@pytest.mark.parametrize("keep_id_token", [True, False], ids=["id-token-kept", "no-id-token"])
def test_keycloak_logout_url_is_one_the_logout_endpoint_takes(
    kc: OpenIDProvider, keep_id_token: bool
) -> None:
    oidc = configured(kc, post_logout_redirect_uri=AFTER)
    id_token, claims = keycloak_id_token(kc, "us-1")
    labels = oidc.session_labels(claims, id_token=id_token if keep_id_token else None)
    url = oidc.logout_url(labels, state="s-1")
    assert url is not None
    endpoint, params = query(url)
    assert endpoint == kc.base + "/realms/studio/protocol/openid-connect/logout"
    assert params["post_logout_redirect_uri"] == [AFTER] and params["state"] == ["s-1"]
    assert ("id_token_hint" in params) is keep_id_token
    assert keycloak_takes(params, claims)


# =====================================================================================
# authentik. Sources, in goauthentik/authentik, authentik/providers/oauth2/:
# * issuer: models.py OAuth2Provider.get_issuer (the provider-root URL, trailing "/"),
#   urls.py (under application/o/: <slug>/.well-known/openid-configuration,
#   <slug>/jwks/, <slug>/end-session/) and tests/test_end_session.py (iss
#   f"http://{host}/application/o/{slug}/");
# * discovery: views/provider.py ProviderInfoView (issuer, jwks_uri,
#   end_session_endpoint). No backchannel_logout_* member in the versions read: left out;
# * key set: views/jwks.py: the signing key, RSA {"alg": "RS256", "kid", "kty", "use":
#   "sig", "n", "e", "x5c", "x5t", "x5t#S256"}, or EC declared "alg": "ES256" whatever
#   its curve; then the encryption key, if any, {"alg": "RSA-OAEP-256", "enc":
#   "A256CBC-HS512", "use": "enc", ...};
# * signing: models.py jwt_key (no signing key: HS256 with the client secret; else
#   RS256, or ES256/ES384/ES512 by the curve: JWTAlgorithms.from_private_key) and encode
#   (PyJWT's jwt.encode, header kid; with an encryption key the JWT is wrapped in a JWE,
#   RSA-OAEP-256 and A256CBC-HS512);
# * logout token: tests/test_backchannel_logout.py (iss, aud = the client id, iat, jti,
#   sid = hash_session_key(session key), events, sub; sid or sub alone; header typ
#   "logout+jwt"), id_token.py (hash_session_key: the session key's SHA-256 in hex, the
#   ID token's sid too), views/end_session.py (the token is sent with the ID token's iss
#   and sub); exp from 2025.8.2 (issue #16490, PR #16593), none before; the jti's form
#   is not sourced (a UUID here);
# * RP-initiated logout: views/end_session.py (a post_logout_redirect_uri needs an
#   id_token_hint, checked for aud = client id and iss, and a registered logout URI);
# * docs: website/docs/add-secure-apps/providers/oauth2/frontchannel_and_backchannel_logout.mdx.
# =====================================================================================

AK_APP = "/application/o/studio/"
# The default sub mode gives the user's uid (SubModes.HASHED_USER_ID, id_token.py); its
# form is not sourced: a hex digest here. Any session key: the sid is its SHA-256.
AK_SUB = hashlib.sha256(b"authentik-user-1").hexdigest()
AK_SESSION_KEY = "k8w2x9o1h3v6c7m0r5t4y2u1i8p0z3q5"
AK_SID = hashlib.sha256(AK_SESSION_KEY.encode("ascii")).hexdigest()


def authentik(alg: str = "RS256", *, declared: str | None = None) -> OpenIDProvider:
    provider = OpenIDProvider(
        (),
        issuer_path=AK_APP,
        client_id="kVvZ3Gq9NwWq1pC8yV0uJvY0tGVdD1yBk4KQ3Fq7",
        jwks_path=AK_APP + "jwks/",
        end_session_path=AK_APP + "end-session/",
    )
    provider.discovery_overrides.update(
        backchannel_logout_supported=None, backchannel_logout_session_supported=None
    )
    kid = provider.add_key(alg)
    publish(provider, kid, alg=declared or alg)
    return provider


def authentik_logout_token(
    provider: OpenIDProvider,
    *,
    sid: str | None = AK_SID,
    sub: str | None = AK_SUB,
    exp: bool = True,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": provider.issuer,
        "aud": provider.client_id,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "events": {EVENT: {}},
    }
    if exp:
        payload["exp"] = now + 120
    if sub is not None:
        payload["sub"] = sub
    if sid is not None:
        payload["sid"] = sid
    key = provider.keys[provider.signing_kid]
    headers = {"kid": key.kid, "typ": "logout+jwt"}
    return jwt.encode(payload, key.private_key, algorithm=key.alg, headers=headers)


def authentik_id_token(provider: OpenIDProvider) -> tuple[str, dict[str, Any]]:
    return provider.id_token(sub=AK_SUB, sid=AK_SID)


@pytest.fixture(scope="module")
def ak() -> Iterator[OpenIDProvider]:
    with authentik() as provider:
        yield provider


def test_authentik_issuer_with_trailing_slash_is_discovered_under_the_application(
    ak: OpenIDProvider,
) -> None:
    assert ak.issuer.endswith("/application/o/studio/")
    oidc = configured(ak)
    assert oidc.discovery.url == ak.base + "/application/o/studio/.well-known/openid-configuration"
    metadata = oidc.discovery.metadata()
    assert metadata.jwks_uri == ak.base + "/application/o/studio/jwks/"
    (entry,) = ak.jwks()["keys"]
    assert set(entry) == {"alg", "kid", "kty", "use", "n", "e", "x5c", "x5t", "x5t#S256"}
    assert oidc.end_session_endpoint() == ak.base + "/application/o/studio/end-session/"
    assert oidc.validate_logout_token(authentik_logout_token(ak)).sid == AK_SID


@pytest.mark.parametrize("exp", [False, True], ids=["2025.8.0-2025.8.1-no-exp", "2025.8.2-exp"])
@pytest.mark.parametrize(
    ("sid", "sub"),
    [(AK_SID, AK_SUB), (None, AK_SUB), (AK_SID, None)],
    ids=["sid-and-sub", "sub-only", "sid-only-no-sub-given"],
)
def test_authentik_logout_token_of_each_release_and_shape_is_accepted(
    ak: OpenIDProvider, exp: bool, sid: str | None, sub: str | None
) -> None:
    token = authentik_logout_token(ak, sid=sid, sub=sub, exp=exp)
    assert jwt.get_unverified_header(token) == {
        "alg": "RS256", "kid": ak.signing_kid, "typ": "logout+jwt"
    }  # fmt: skip
    claims = configured(ak).validate_logout_token(token)
    assert (claims.sid, claims.sub) == (sid, sub)


def test_authentik_logout_ends_the_session_of_its_hashed_session_key_through_the_middleware(
    ak: OpenIDProvider,
) -> None:
    world = World(configured(ak))
    mine = world.login(authentik_id_token(ak))
    elsewhere = world.login(ak.id_token(sub=AK_SUB, sid=hashlib.sha256(b"other").hexdigest()))
    assert world.backchannel(authentik_logout_token(ak))["ended"] == 1
    assert mine not in world.backend and elsewhere in world.backend


def test_authentik_key_set_with_an_encryption_key_still_verifies_with_the_signing_key() -> None:
    with authentik() as provider:
        enc = provider.add_key("RS256", sign=False)
        entry = publish(provider, enc, alg="RSA-OAEP-256", enc="A256CBC-HS512", use="enc")
        assert provider.jwks()["keys"][1] == entry  # after the signing key, as jwks.py
        claims = configured(provider).validate_logout_token(authentik_logout_token(provider))
        assert claims.sub == AK_SUB


def jwe_rsa_oaep_256_a256cbc_hs512(plaintext: bytes, public_key: Any, kid: str) -> str:
    """A JWE in compact form as authentik's OAuth2Provider.encrypt writes it (jwcrypto:
    RSA-OAEP-256 key wrap, A256CBC-HS512 content encryption, typ JWE), made by hand with
    cryptography (RFC 7516, RFC 7518 section 5.2.5)."""
    header = b64(json.dumps(
        {"alg": "RSA-OAEP-256", "enc": "A256CBC-HS512", "typ": "JWE", "kid": kid}
    ).encode())  # fmt: skip
    cek, iv = os.urandom(64), os.urandom(16)
    mac_key, enc_key = cek[:32], cek[32:]
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    aad = header.encode("ascii")
    al = (len(aad) * 8).to_bytes(8, "big")
    tag = hmac.new(mac_key, aad + iv + ciphertext + al, hashlib.sha512).digest()[:32]
    oaep = asymmetric_padding.OAEP(
        mgf=asymmetric_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    )
    encrypted_key = public_key.encrypt(cek, oaep)
    return ".".join([header, b64(encrypted_key), b64(iv), b64(ciphertext), b64(tag)])


def test_authentik_with_an_encryption_key_sends_jwe_logout_tokens_which_are_refused(
    ak: OpenIDProvider,
) -> None:
    enc = ak.keys[ak.signing_kid].private_key  # any RSA key encrypts here
    token = jwe_rsa_oaep_256_a256cbc_hs512(
        authentik_logout_token(ak).encode(), enc.public_key(), "encryption-key"
    )
    oidc = configured(ak)
    with pytest.raises(InvalidLogoutToken, match=r"encrypted logout tokens \(JWE\)"):
        oidc.validate_logout_token(token)
    assert oidc.jwks_fetches == 0


def test_authentik_without_a_signing_key_signs_hs256_with_the_client_secret_which_is_refused(
    ak: OpenIDProvider,
) -> None:
    payload = jwt.decode(
        authentik_logout_token(ak), options={"verify_signature": False}
    )  # the same claims
    client_secret = secrets.token_urlsafe(96)
    token = jwt.encode(payload, client_secret, algorithm="HS256", headers={"typ": "logout+jwt"})
    oidc = configured(ak)
    with pytest.raises(InvalidLogoutToken, match="alg is not one of"):
        oidc.validate_logout_token(token)
    assert oidc.jwks_fetches == 0


def test_authentik_ec_p256_signing_key_declared_es256_is_accepted() -> None:
    with authentik("ES256") as provider:
        assert provider.jwks()["keys"][0]["crv"] == "P-256"
        claims = configured(provider).validate_logout_token(authentik_logout_token(provider))
        assert claims.sid == AK_SID


# authentik's views/jwks.py declares every EC signing key "alg": "ES256" while
# models.py signs with ES384/ES512 on P-384/P-521 (goauthentik/authentik issue #11838):
# the curve decides (algorithms_for), so its tokens verify, with the curve's algorithm.
@pytest.mark.parametrize("alg", ["ES384", "ES512"])
def test_authentik_ec_p384_or_p521_signing_key_declared_es256_is_accepted(alg: str) -> None:
    with authentik(alg, declared="ES256") as provider:
        token = authentik_logout_token(provider)
        assert jwt.get_unverified_header(token)["alg"] == alg
        assert configured(provider).validate_logout_token(token).sid == AK_SID


def test_authentik_logout_url_carries_the_id_token_hint_that_a_redirect_needs(
    ak: OpenIDProvider,
) -> None:
    oidc = configured(ak, post_logout_redirect_uri=AFTER)
    id_token, claims = authentik_id_token(ak)
    url = oidc.logout_url(oidc.session_labels(claims, id_token=id_token), state="s-1")
    assert url is not None
    endpoint, params = query(url)
    assert endpoint == ak.base + "/application/o/studio/end-session/"
    assert params["post_logout_redirect_uri"] == [AFTER] and params["state"] == ["s-1"]
    # end_session.py decodes it with audience = the client id and issuer = the issuer.
    hint = jwt.decode(
        params["id_token_hint"][0],
        ak.keys[ak.signing_kid].private_key.public_key(),
        algorithms=["RS256"],
        audience=ak.client_id,
        issuer=ak.issuer,
        options={"verify_exp": False},
    )
    assert hint["sub"] == AK_SUB


# =====================================================================================
# Auth0. Sources:
# * discovery: auth0/nextjs-auth0 src/server/auth-client.test.ts
#   _authorizationServerMetadata (a tenant's document: issuer "https://<tenant>/" with
#   the trailing "/", jwks_uri <issuer>.well-known/jwks.json, end_session_endpoint
#   <issuer>oidc/logout, backchannel_logout_supported and
#   backchannel_logout_session_supported true) and
#   https://auth0.com/docs/authenticate/login/logout/back-channel-logout/configure-back-channel-logout
#   (those two members true);
# * key set: https://auth0.com/docs/secure/tokens/json-web-tokens/json-web-key-set-properties
#   ({"alg": "RS256", "kty": "RSA", "use": "sig", "x5c", "n", "e", "kid", "x5t"});
# * logout token: https://auth0.com/docs/authenticate/login/logout/back-channel-logout
#   ("The token contains the user_id (sub) and the sid along with other parameters"),
#   validated as the specification says (configure-back-channel-logout: the event, sid
#   and/or sub, no nonce); RS256: Auth0's own SDK accepts logout tokens signed RS256
#   only, issuer from discovery, aud = the client id, iat required (auth0/nextjs-auth0
#   src/server/auth-client.ts). Not sourced: the header's typ and kid, and exp: every
#   possibility of each is tested;
# * RP-initiated logout: https://auth0.com/docs/api/authentication/logout/oidc-logout
#   (GET /oidc/logout: id_token_hint, client_id, post_logout_redirect_uri among the
#   Allowed Logout URLs, state); without end-session discovery the SDK falls back to
#   /v2/logout (nextjs-auth0 auth-client.ts).
# =====================================================================================

A0_SUB = "auth0|63f1c2d4e5a6b7c8d9e0f1a2"  # an Auth0 user_id
A0_SID = "6X7J8a6Z1gddkX-h3dDCrX3Mq6dHLr2A"


def auth0() -> OpenIDProvider:
    provider = OpenIDProvider(
        (),
        issuer_path="/",
        client_id="Pk8yZ7zuT0vZpc7uMyVeBjEJRGz8VUHR",
        jwks_path="/.well-known/jwks.json",
        end_session_path="/oidc/logout",
    )
    kid = provider.add_key("RS256")
    publish(provider, kid, **{"x5t#S256": None})
    return provider


@pytest.fixture(scope="module")
def a0() -> Iterator[OpenIDProvider]:
    with auth0() as provider:
        yield provider


def auth0_logout_token(
    provider: OpenIDProvider, *, typ: str | None = None, kid: bool = True, exp: bool = True
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": provider.issuer,
        "sub": A0_SUB,
        "aud": provider.client_id,
        "iat": now,
        "jti": secrets.token_hex(16),
        "sid": A0_SID,
        "events": {EVENT: {}},
    }
    if exp:
        payload["exp"] = now + 120
    headers: dict[str, Any] = {"typ": typ, "kid": provider.signing_kid if kid else None}
    return provider.sign(payload, headers=headers)


def test_auth0_issuer_with_trailing_slash_discovery_and_key_set(a0: OpenIDProvider) -> None:
    assert a0.issuer == a0.base + "/"
    oidc = configured(a0)
    assert oidc.discovery.url == a0.base + "/.well-known/openid-configuration"
    metadata = oidc.discovery.metadata()
    assert metadata.jwks_uri == a0.issuer + ".well-known/jwks.json"
    assert metadata.end_session_endpoint == a0.issuer + "oidc/logout"
    assert metadata.document["backchannel_logout_session_supported"] is True
    (entry,) = a0.jwks()["keys"]
    assert set(entry) == {"alg", "kty", "use", "x5c", "n", "e", "kid", "x5t"}
    assert oidc.validate_logout_token(auth0_logout_token(a0)).sub == A0_SUB


@pytest.mark.parametrize("exp", [True, False], ids=["exp", "no-exp"])
@pytest.mark.parametrize("kid", [True, False], ids=["kid", "no-kid"])
@pytest.mark.parametrize("typ", [None, "JWT", "logout+jwt"], ids=["no-typ", "JWT", "logout+jwt"])
def test_auth0_logout_token_is_accepted_whatever_its_undocumented_header_and_exp(
    a0: OpenIDProvider, typ: str | None, kid: bool, exp: bool
) -> None:
    claims = configured(a0).validate_logout_token(auth0_logout_token(a0, typ=typ, kid=kid, exp=exp))
    assert (claims.sub, claims.sid) == (A0_SUB, A0_SID)


def test_auth0_logout_ends_the_sessions_of_its_sid_through_the_middleware(
    a0: OpenIDProvider,
) -> None:
    world = World(configured(a0))
    mine = world.login(a0.id_token(sub=A0_SUB, sid=A0_SID))
    elsewhere = world.login(a0.id_token(sub=A0_SUB, sid="another-auth0-session"))
    assert world.backchannel(auth0_logout_token(a0))["ended"] == 1
    assert mine not in world.backend and elsewhere in world.backend


def test_auth0_logout_url_is_the_oidc_logout_endpoint_with_its_parameters(
    a0: OpenIDProvider,
) -> None:
    oidc = configured(a0, post_logout_redirect_uri=AFTER)
    id_token, claims = a0.id_token(sub=A0_SUB, sid=A0_SID)
    url = oidc.logout_url(oidc.session_labels(claims, id_token=id_token), state="s-1")
    assert url is not None
    endpoint, params = query(url)
    assert endpoint == a0.base + "/oidc/logout"
    assert params == {
        "client_id": [a0.client_id],
        "post_logout_redirect_uri": [AFTER],
        "id_token_hint": [id_token],
        "state": ["s-1"],
    }


def test_auth0_without_end_session_discovery_needs_the_endpoint_configured() -> None:
    with auth0() as provider:
        provider.discovery_overrides["end_session_endpoint"] = None  # the tenant setting off
        _, claims = provider.id_token(sub=A0_SUB)
        labels = configured(provider).session_labels(claims)
        assert configured(provider).logout_url(labels) is None
        oidc = configured(provider, end_session_endpoint=provider.issuer + "oidc/logout")
        url = oidc.logout_url(labels)
        assert url is not None and url.startswith(provider.base + "/oidc/logout?")


# =====================================================================================
# Okta. Sources, in okta/okta-developer-docs: packages/@okta/vuepress-site/docs/
# reference/api/oidc/index.md (last version, before commit 4bcae26f46 moved the API
# reference out): /logout (id_token_hint required; post_logout_redirect_uri and state
# optional), /keys (RS256 keys {"alg", "e", "n", "kid", "kty", "use"}, no x5c),
# /.well-known/openid-configuration (issuer "https://{yourOktaDomain}" for the org
# server, jwks_uri ${baseUrl}/keys, end_session_endpoint ${baseUrl}/logout, no
# backchannel_logout_* member), the ID token's header {"alg", "kid"} and payload (ver,
# sub, iss, aud, iat, exp, amr, jti, auth_time, at_hash..., no sid); "Composing your
# base URL" (https://{yourOktaDomain}/oauth2/default for the default custom server).
# docs/guides/single-logout/main/openidconnect/*.md: Single Logout is front-channel.
# Also https://support.okta.com/help/s/article/the-purpose-of-id-token-hint-in-the-logout-api-and-how-does-it-affect-the-single-logout-process
# ("id_token_hint parameter is a required parameter").
# =====================================================================================

OKTA_AS = "/oauth2/default"


def okta() -> OpenIDProvider:
    provider = OpenIDProvider(
        ("RS256", "RS256", "RS256"),
        issuer_path=OKTA_AS,
        client_id="0oabzljih3rnr6aGt0h7",
        jwks_path=OKTA_AS + "/v1/keys",
        end_session_path=OKTA_AS + "/v1/logout",
    )
    provider.discovery_overrides.update(
        backchannel_logout_supported=None, backchannel_logout_session_supported=None
    )
    for kid in list(provider.keys):
        publish(provider, kid, certificate=False)
    return provider


def okta_id_token(provider: OpenIDProvider) -> tuple[str, dict[str, Any]]:
    now = int(time.time())
    claims = {
        "ver": 1,
        "amr": ["pwd"],
        "jti": "ID." + secrets.token_urlsafe(16),
        "auth_time": now,
        "at_hash": "cpqKfdQA5eH891Ff5oJr_Q",
    }
    # The header is {"alg", "kid"}: no typ.
    return provider.id_token(
        sub="00uid4BxXw6I6TV4m0g3", sid=None, claims=claims, headers={"typ": None}
    )


def test_okta_discovery_and_three_key_set_are_read_and_every_key_loads() -> None:
    with okta() as provider:
        oidc = configured(provider)
        metadata = oidc.discovery.metadata()
        assert "backchannel_logout_supported" not in metadata.document
        assert metadata.jwks_uri == provider.issuer + "/v1/keys"
        assert oidc.end_session_endpoint() == provider.issuer + "/v1/logout"
        for entry in provider.jwks()["keys"]:
            assert set(entry) == {"alg", "e", "n", "kid", "kty", "use"}
            assert oidc.keys.key(entry["kid"], "RS256").key_id == entry["kid"]
        assert oidc.jwks_fetches == 1


def test_okta_logout_url_carries_the_required_id_token_hint_to_v1_logout() -> None:
    with okta() as provider:
        oidc = configured(provider, post_logout_redirect_uri=AFTER)
        id_token, claims = okta_id_token(provider)
        assert jwt.get_unverified_header(id_token) == {"alg": "RS256", "kid": provider.signing_kid}
        labels = oidc.session_labels(claims, id_token=id_token)
        assert "oidc_sid" not in labels  # Okta's ID token has no sid
        url = oidc.logout_url(labels, state="s-1")
        assert url is not None
        endpoint, params = query(url)
        assert endpoint == provider.issuer + "/v1/logout"
        assert params["id_token_hint"] == [id_token]
        assert params["post_logout_redirect_uri"] == [AFTER] and params["state"] == ["s-1"]


def test_okta_session_without_its_id_token_gets_a_url_okta_refuses() -> None:
    # Why the page says to pass id_token to session_labels: without it there is no
    # id_token_hint, which Okta's /v1/logout requires.
    with okta() as provider:
        oidc = configured(provider)
        _, claims = okta_id_token(provider)
        url = oidc.logout_url(oidc.session_labels(claims))
        assert url is not None and "id_token_hint" not in query(url)[1]


# =====================================================================================
# Microsoft Entra ID. Sources:
# * panva/wellknown issuers/entra-organizations/entra-organizations.mjs (the
#   "organizations" discovery document and key set as served, captured 2024-10):
#   issuer "https://login.microsoftonline.com/{tenantid}/v2.0" (a template), jwks_uri
#   .../discovery/v2.0/keys, end_session_endpoint .../oauth2/v2.0/logout,
#   frontchannel_logout_supported and http_logout_supported true, no backchannel_*;
#   keys {"kty": "RSA", "use": "sig", "kid", "x5t" (= kid), "n", "e", "x5c", "issuer"},
#   no alg (a tenant's own key set was not captured: these entries serve for it);
# * MicrosoftDocs/entra-docs docs/identity-platform/v2-protocols-oidc.md: the
#   authority https://login.microsoftonline.com/{tenant}/v2.0, {tenant} the tenant's id
#   for a single tenant; sign-out at the end_session_endpoint with
#   post_logout_redirect_uri (recommended) and logout_hint (optional); single sign-out
#   is a GET to each application's LogoutUrl (front-channel).
# Entra sends no logout token: only the discovery, key set and RP-initiated side.
# =====================================================================================

TENANT = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"  # the docs' example tenant id
ENTRA_TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"


def entra(tenant: str = TENANT) -> OpenIDProvider:
    provider = OpenIDProvider(
        (),
        issuer_path=f"/{tenant}/v2.0",
        client_id="535fb089-9ff3-47b6-9bfb-4f1264799865",
        jwks_path=f"/{tenant}/discovery/v2.0/keys",
        end_session_path=f"/{tenant}/oauth2/v2.0/logout",
    )
    for _ in range(3):
        key = provider.keys.pop(provider.add_key("RS256", declare_alg=False))
        key.kid = provider.signing_kid = x509_members(key.private_key)["x5t"]  # kid = x5t
        provider.keys[key.kid] = key
        publish(provider, key.kid, **{"x5t#S256": None, "issuer": ENTRA_TEMPLATE})
    provider.discovery_overrides.update(
        backchannel_logout_supported=None,
        backchannel_logout_session_supported=None,
        frontchannel_logout_supported=True,
        http_logout_supported=True,
    )
    return provider


def test_entra_tenant_discovery_and_key_set_without_alg_are_read() -> None:
    with entra() as provider:
        oidc = configured(provider)
        metadata = oidc.discovery.metadata()
        assert metadata.issuer == f"{provider.base}/{TENANT}/v2.0"
        assert "backchannel_logout_supported" not in metadata.document
        assert metadata.document["frontchannel_logout_supported"] is True
        assert metadata.jwks_uri == f"{provider.base}/{TENANT}/discovery/v2.0/keys"
        for entry in provider.jwks()["keys"]:
            assert set(entry) == {"kty", "use", "kid", "x5t", "n", "e", "x5c", "issuer"}
            assert oidc.keys.key(entry["kid"], "RS256").key_id == entry["kid"]


def test_entra_organizations_document_names_a_templated_issuer_and_is_refused() -> None:
    # The page's advice, the tenant's id in the issuer: the "organizations" (and
    # "common") document names {tenantid}, which no token carries.
    with entra("organizations") as provider:
        provider.discovery_overrides["issuer"] = ENTRA_TEMPLATE
        with pytest.raises(ProviderError, match="names another issuer"):
            configured(provider).end_session_endpoint()


@pytest.mark.parametrize("optional_sid", [False, True], ids=["default", "sid-optional-claim"])
def test_entra_logout_url_is_the_v2_logout_endpoint_with_post_logout_redirect_uri(
    optional_sid: bool,
) -> None:
    with entra() as provider:
        oidc = configured(provider, post_logout_redirect_uri=AFTER)
        id_token, claims = provider.id_token(
            sub="AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            sid="00a1b2c3-d4e5-f6a7-b8c9-d0e1f2a3b4c5" if optional_sid else None,
            claims={"ver": "2.0", "tid": TENANT, "oid": str(uuid.uuid4())},
        )
        labels = oidc.session_labels(claims, id_token=id_token)
        assert ("oidc_sid" in labels) is optional_sid
        url = oidc.logout_url(labels)
        assert url is not None
        endpoint, params = query(url)
        assert endpoint == f"{provider.base}/{TENANT}/oauth2/v2.0/logout"
        assert params["post_logout_redirect_uri"] == [AFTER]
