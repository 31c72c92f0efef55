"""The two ways OIDC logout fails: a token that is not a valid logout token, and a
provider that could not be asked.

Neither message ever holds the token, a fragment of it, or a value read from it: a
description names the rule that failed (``"the iss claim is not the configured
issuer"``), so it can go into a log line or an ``error_description`` as it is.
"""

from __future__ import annotations

__all__ = ["InvalidLogoutToken", "ProviderError"]


class InvalidLogoutToken(Exception):
    """The logout token breaks a rule of Back-Channel Logout 1.0 (section 2.6).

    The back-channel endpoint answers it with ``400`` and
    ``{"error": "invalid_request", "error_description": description}``.

    :param description: the rule that failed, in plain words; never token content.
    """

    def __init__(self, description: str) -> None:
        super().__init__(description)
        #: The rule that failed: safe to log and to send back to the provider.
        self.description = description


class ProviderError(Exception):
    """The provider's discovery document or key set could not be had: the provider
    is down, too slow (past ``timeout``), or answered something unusable.

    Not the sender's fault, so not a ``400``: the back-channel endpoint answers it as
    a server error (the provider may retry). The message names the URL and the cause.
    """
