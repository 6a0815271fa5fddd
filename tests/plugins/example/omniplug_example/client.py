"""Talking to Example Mall: signing, error envelopes, token refresh.

Example Mall signs like TOP (md5 over the sorted ``namevalue`` concatenation
wrapped in the app secret, upper-case hex) and reports errors as HTTP 200
with an ``error_response`` object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import httpx

from omniplug.errors import (
    AuthError,
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.fields import CHINA_TZ
from omniplug.http import RequestSpec, parse_ban_seconds
from omniplug.tokens import TokenSet

PLATFORM = "example"


def sign(params: Mapping[str, str], secret: str) -> str:
    """TOP-style md5 signature: MD5(secret + k1v1k2v2... + secret), upper-case hex.

    Empty values and ``sign`` itself are left out, as the official SDKs do.
    """
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v not in ("", None))
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()


def make_prepare(app_key: str, secret: str, now: Callable[[], datetime]) -> Callable[[RequestSpec, TokenSet | None], RequestSpec]:
    """A ``prepare`` hook that stamps, authorises and signs every attempt afresh."""

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        if spec.url.startswith("/router/rest"):
            params = {k: str(v) for k, v in (spec.params or {}).items()}
            params.update(
                app_key=app_key,
                timestamp=now().astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                v="2.0",
                sign_method="md5",
                format="json",
            )
            if token is not None:
                params["session"] = token.access_token.get_secret_value()
            params["sign"] = sign(params, secret)
            spec.params = params
        elif token is not None:
            spec.headers = {**(spec.headers or {}), "Access-Token": token.access_token.get_secret_value()}
        return spec

    return prepare


def classify(response: httpx.Response) -> PlatformError | None:
    """Map Example Mall's error envelopes onto omniplug's error classes."""
    if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
        return None  # HTTP-level errors are classified by the client itself
    body = response.json()
    if isinstance(body, dict) and "error_response" in body:
        err = body["error_response"]
        code, msg, sub_msg = err.get("code"), err.get("msg", ""), err.get("sub_msg", "")
        text = f"Example Mall error {code} {msg} {sub_msg}".strip()
        if code == 7:
            return ThrottledError(text, platform=PLATFORM, code=code, retry_after=parse_ban_seconds(sub_msg))
        if code == 25:
            return SignatureError(
                f"{text}: the signature check failed; check app_secret in [platforms.example]",
                platform=PLATFORM, code=code,
            )
        if code == 27:
            return TokenExpiredError(text, platform=PLATFORM, code=code)
        if code in (28, 29):
            return AuthError(f"{text}: check app_key", platform=PLATFORM, code=code)
        if str(err.get("sub_code", "")).startswith("isp."):
            return TransientError(text, platform=PLATFORM, code=code)
        return PlatformError(text, platform=PLATFORM, code=code)
    if isinstance(body, dict) and body.get("code") not in (None, 0):
        code = body.get("code")
        if code == 40105:
            return TokenExpiredError(f"Example Mall error {code}: {body.get('message')}", platform=PLATFORM, code=code)
        return PlatformError(f"Example Mall error {code}: {body.get('message')}", platform=PLATFORM, code=code)
    return None


def make_refresh(base_url: str, app_key: str, secret: str, now: Callable[[], datetime]) -> Callable[[TokenSet], TokenSet]:
    """The refresh call: trades the refresh token for a new (rotated) token pair."""

    def refresh(stale: TokenSet) -> TokenSet:
        if stale.refresh_token is None:
            raise AuthError("Example Mall session expired and no refresh_token is configured; re-authorise",
                            platform=PLATFORM)
        response = httpx.post(
            f"{base_url.rstrip('/')}/oauth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": app_key,
                "client_secret": secret,
                "refresh_token": stale.refresh_token.get_secret_value(),
            },
            timeout=30,
        )
        body = response.json()
        if "access_token" not in body:
            raise AuthError(f"Example Mall refused the token refresh: {body.get('error_description', body)}",
                            platform=PLATFORM)
        issued = now()
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            expires_at=issued + timedelta(seconds=int(body["expires_in"])),
            extra={"user_id": body.get("user_id")},
        )

    return refresh


def utc_now() -> datetime:
    """The real current time, UTC."""
    return datetime.now(UTC)
