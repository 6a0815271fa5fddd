"""Talking to JD's JOS gateway (``/routerjson``): signing, envelopes, errors, token refresh.

JOS signs like TOP's md5 mode: every sent parameter except ``sign``, sorted
by name, concatenated as ``namevalue`` and wrapped in the app secret, MD5,
upper-case hex. Business arguments travel as one JSON text in
``360buy_param_json``, and the signature covers that text byte for byte, so
it is serialised once (:func:`param_json`) and the same string is signed and
sent.

Answers are HTTP 200 either way: ``error_response`` (string ``code``,
``zh_desc``, ``en_desc``) for gateway errors, or
``<method_with_underscores>_responce`` (JD's spelling) whose result object
may still say ``apiResult.success=false`` / ``returnType.success=false``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from omniplug.errors import (
    AuthError,
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.fields import CHINA_TZ, json_loads_exact
from omniplug.http import PlatformClient, RequestSpec
from omniplug.tokens import TokenSet

__all__ = [
    "GATEWAY_PATH",
    "PLATFORM",
    "add_month",
    "call",
    "china_wall",
    "classify_oauth",
    "make_classify",
    "make_prepare",
    "make_refresh",
    "param_json",
    "response_key",
    "sign",
    "utc_now",
]

PLATFORM = "jd"
#: Path of the JOS gateway under ``base_url`` (``https://api.jd.com/routerjson``).
GATEWAY_PATH = "/routerjson"
#: Protocol version of the ``jingdong.*`` POP APIs.
API_VERSION = "2.0"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Gateway codes (platforms.md §2.3); JD sends them as strings.
CODE_CALL_LIMIT = "2"
CODE_MISSING_TIMESTAMP = "7"
CODE_BAD_TIMESTAMP = "8"
CODE_MISSING_SIGN = "11"
CODE_BAD_SIGN = "12"
CODE_BAD_TOKEN = "19"

# A per-second limit names its wait ("retry after 1 seconds" / "请1秒后重试");
# the daily quota does not (JD: "retry the next day").
_WAIT_EN = re.compile(r"retry\s+after\s+(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)
_WAIT_ZH = re.compile(r"(\d+(?:\.\d+)?)\s*秒后重试")
# apiResult failures that name a parameter will fail the same way on a retry.
_PARAM_PROBLEM = re.compile(r"param|参数", re.IGNORECASE)


def sign(params: Mapping[str, Any], secret: str) -> str:
    """JOS md5 signature: ``MD5(secret + k1v1k2v2... + secret)``, upper-case hex.

    ``sign`` itself and empty values are left out (as the official SDKs do);
    ``360buy_param_json`` sorts first (it starts with a digit) and contributes
    its exact text.
    """
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v not in (None, ""))
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()


def param_json(business: Mapping[str, Any]) -> str:
    """The ``360buy_param_json`` text of the business arguments (compact, keys sorted, UTF-8 kept)."""
    return json.dumps(business, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def response_key(method: str) -> str:
    """The success envelope key of ``method``: dots become underscores, plus ``_responce``."""
    return method.replace(".", "_") + "_responce"


def china_wall(dt: datetime) -> str:
    """``dt`` as JD's ``yyyy-MM-dd HH:mm:ss`` China wall time."""
    return dt.astimezone(CHINA_TZ).strftime(TIME_FORMAT)


def add_month(dt: datetime) -> datetime:
    """One calendar month after ``dt`` in China wall time (day clamped: Jan 31 -> Feb 28/29).

    JD's order search refuses windows longer than one month; client and
    simulator use this same rule.
    """
    local = dt.astimezone(CHINA_TZ)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    for day in (local.day, 30, 29, 28):
        try:
            return local.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def utc_now() -> datetime:
    """The real current time, UTC."""
    return datetime.now(UTC)


def make_prepare(
    app_key: str, secret: str, now: Callable[[], datetime], *, sign_format_params: bool = False
) -> Callable[[RequestSpec, TokenSet | None], RequestSpec]:
    """A ``prepare`` hook that stamps, authorises and signs every gateway attempt afresh.

    With ``sign_format_params`` the request also carries ``format=json`` and
    ``sign_method=md5`` (signed like every other parameter, as the SDKs do);
    JD's official signing example sends neither.
    """

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        if not spec.url.startswith(GATEWAY_PATH):
            return spec
        form = {k: str(v) for k, v in (spec.data or {}).items()}
        form.update(app_key=app_key, timestamp=now().astimezone(CHINA_TZ).strftime(TIME_FORMAT), v=API_VERSION)
        if sign_format_params:
            form.update(format="json", sign_method="md5")
        if token is not None:
            form["access_token"] = token.access_token.get_secret_value()
        form["sign"] = sign(form, secret)
        spec.data = form
        return spec

    return prepare


def _seconds_to_china_midnight(now: datetime) -> float:
    local = now.astimezone(CHINA_TZ)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())


def _call_limit(err: Mapping[str, Any], text: str, now: Callable[[], datetime]) -> ThrottledError:
    """Code 2: a per-second limit (wait named, retried) or the daily quota (wait until tomorrow)."""
    for pattern, field in ((_WAIT_EN, "en_desc"), (_WAIT_ZH, "zh_desc")):
        match = pattern.search(str(err.get(field) or ""))
        if match:
            return ThrottledError(text, platform=PLATFORM, code=CODE_CALL_LIMIT, retry_after=float(match.group(1)))
    wait = _seconds_to_china_midnight(now())
    return ThrottledError(
        f"{text}: the app's daily call quota for this API is used up; JD resets it at midnight China time "
        f"(in {wait:.0f} s) - run again then, or ask JD for a larger quota",
        platform=PLATFORM, code=CODE_CALL_LIMIT, retry_after=wait,
    )


def _gateway_error(err: Mapping[str, Any], now: Callable[[], datetime]) -> PlatformError:
    code = str(err.get("code", ""))
    text = f"JD error {code}: {err.get('en_desc') or ''} / {err.get('zh_desc') or ''}".strip(" /")
    if code == CODE_CALL_LIMIT:
        return _call_limit(err, text, now)
    if code in (CODE_BAD_SIGN, CODE_MISSING_SIGN):
        return SignatureError(
            f"{text}: JD's signature check failed (md5 over the sorted parameters wrapped in app_secret); "
            "check app_secret (and sign_format_params) in [platforms.jd]",
            platform=PLATFORM, code=code,
        )
    if code == CODE_BAD_TOKEN:
        return TokenExpiredError(f"{text}: the access_token is invalid or expired", platform=PLATFORM, code=code)
    if code in (CODE_BAD_TIMESTAMP, CODE_MISSING_TIMESTAMP):
        return PlatformError(
            f"{text}: JD refuses timestamps more than a few minutes (6 by its error text) off its clock; "
            "check this machine's clock",
            platform=PLATFORM, code=code, retryable=False,
        )
    return PlatformError(text, platform=PLATFORM, code=code, retryable=False)


def _string_payload_failure(result: Mapping[str, Any]) -> PlatformError | None:
    """A failure inside a JSON-text payload (``queryResult``/``getResult``, the ``jd.union`` style)."""
    for key in ("queryResult", "getResult"):
        text = result.get(key)
        if not isinstance(text, str):
            continue
        try:
            payload = json_loads_exact(text)
        except ValueError:
            return TransientError(f"JD {key} is not valid JSON text", platform=PLATFORM)
        code = payload.get("code") if isinstance(payload, dict) else None
        if str(code) not in ("0", "200"):
            message = payload.get("message") if isinstance(payload, dict) else payload
            return PlatformError(f"JD {key} error {code}: {message}", platform=PLATFORM, code=code, retryable=False)
    return None


def _inner_failure(result: Mapping[str, Any]) -> PlatformError | None:
    """``apiResult.success=false`` (order search) or ``returnType.success=false`` (ads), if present.

    JD documents neither the ``numberCode`` values nor which failures are
    worth retrying. A failure naming a parameter is raised at once (the same
    request fails the same way); any other (the only kind seen in public
    code is "系统繁忙"/service busy) is a :class:`TransientError`, retried
    with backoff up to ``max_attempts``.
    """
    for value in result.values():
        if not isinstance(value, Mapping):
            continue
        flag = value.get("apiResult") if "apiResult" in value else value if "success" in value else None
        if not isinstance(flag, Mapping) or flag.get("success") is not False:
            continue
        zh = flag.get("chineseErrCode") or flag.get("msg") or ""
        en = flag.get("englishErrCode") or ""
        number = flag.get("numberCode", flag.get("code"))
        text = f"JD result not successful ({number}): {en} / {zh}".strip(" /")
        if _PARAM_PROBLEM.search(f"{en} {zh}"):
            return PlatformError(f"{text}: a request parameter was refused", platform=PLATFORM, code=number,
                                 retryable=False)
        return TransientError(text, platform=PLATFORM, code=number)
    return None


def make_classify(now: Callable[[], datetime]) -> Callable[[httpx.Response], PlatformError | None]:
    """``classify`` for gateway answers; ``now`` dates the daily-quota wait."""

    def classify(response: httpx.Response) -> PlatformError | None:
        if response.status_code >= 400:
            return None  # HTTP-level failures are the client's (5xx retried, 429 honoured)
        try:
            body = json_loads_exact(response.content)
        except ValueError:
            return TransientError("HTTP 200 with a body that is not JSON", platform=PLATFORM)
        if not isinstance(body, dict):
            return TransientError("JD answered a JSON value that is not an object", platform=PLATFORM)
        if "error_response" in body:
            return _gateway_error(body["error_response"] or {}, now)
        for key, result in body.items():
            if key.endswith("_responce") and isinstance(result, dict):
                code = str(result.get("code", "0"))
                if code != "0":
                    detail = " / ".join(str(result[k]) for k in ("en_desc", "zh_desc", "msg") if result.get(k))
                    return PlatformError(f"JD error {code}: {detail or result}", platform=PLATFORM, code=code,
                                         retryable=False)
                return _inner_failure(result) or _string_payload_failure(result)
        return TransientError("JD answered without error_response or a *_responce envelope", platform=PLATFORM)

    return classify


def call(http: PlatformClient, method: str, business: Mapping[str, Any]) -> dict[str, Any]:
    """Call one JOS ``method`` and return its result object (inside ``<method>_responce``).

    The body is parsed with :func:`~omniplug.fields.json_loads_exact`: ids
    above 2**53 stay exact ints and decimals become ``Decimal``.
    """
    response = http.request("POST", GATEWAY_PATH, data={"method": method, "360buy_param_json": param_json(business)})
    body = json_loads_exact(response.content)
    return body[response_key(method)]


def classify_oauth(response: httpx.Response) -> PlatformError | None:
    """``classify`` for JD's OAuth host: a refusal is an :class:`AuthError` (never retried)."""
    if response.status_code >= 500:
        return None
    try:
        body = response.json()
    except ValueError:
        return TransientError("the JD OAuth host answered a body that is not JSON", platform=PLATFORM)
    if isinstance(body, dict) and body.get("access_token"):
        return None
    detail = body.get("msg") or body.get("error_description") or body if isinstance(body, dict) else body
    return AuthError(f"JD refused the token refresh ({detail}); re-authorise the shop and update access_token "
                     "and refresh_token in [platforms.jd]", platform=PLATFORM)


def make_refresh(
    oauth: Callable[[], PlatformClient], app_key: str, secret: str, now: Callable[[], datetime]
) -> Callable[[TokenSet], TokenSet]:
    """The refresh call (``/oauth2/refresh_token`` on JD's OAuth host).

    ``oauth()`` makes a client for the OAuth host, *without* the token
    manager; it is called on the first refresh only (most runs never
    refresh). A new refresh token in the answer replaces the old one (JD's
    older docs say refreshing keeps the token values; either way what JD
    returns is kept).
    """
    made: list[PlatformClient] = []

    def refresh(stale: TokenSet) -> TokenSet:
        if stale.refresh_token is None:
            raise AuthError("the JD access_token expired and no refresh_token is configured in [platforms.jd]; "
                            "re-authorise the shop", platform=PLATFORM)
        if not made:
            made.append(oauth())
        body = made[0].request_json("GET", "/oauth2/refresh_token", params={
            "app_key": app_key, "app_secret": secret, "grant_type": "refresh_token",
            "refresh_token": stale.refresh_token.get_secret_value(),
        })
        issued = now()
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or stale.refresh_token,
            expires_at=issued + timedelta(seconds=int(body["expires_in"])) if body.get("expires_in") else None,
            extra={k: body[k] for k in ("open_id", "uid", "scope") if k in body},
        )

    return refresh
