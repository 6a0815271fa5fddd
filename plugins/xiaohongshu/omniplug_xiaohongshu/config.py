"""``[platforms.xiaohongshu]``: the configuration model of the plugin."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from omniplug.config import PlatformConfig
from omniplug_xiaohongshu import codes


class XiaohongshuConfig(PlatformConfig):
    """Credentials and settings of one Xiaohongshu brand account.

    Juguang (ads) and Pugongying (KOL) share one OAuth authorisation of the
    Juguang app (``app_id``, ``secret``, ``access_token``, ``refresh_token``);
    the Ark shop has its own app (``ark_app_id``, ``ark_app_secret``) and shop
    authorisation (``ark_access_token``). Leave the Ark keys out if the brand
    has no Xiaohongshu shop (``shop_orders`` then says what is missing).

    Attributes:
        base_url: the Juguang OAuth host (token refresh).
        ads_base_url: the Juguang/Pugongying data API host.
        ark_base_url: the Ark open-platform host.
        app_id: the Juguang app id (a number).
        secret: the Juguang app secret.
        access_token: the initial access token from the authorisation; rotated
            tokens are kept in the state database from then on.
        refresh_token: the initial refresh token (rotates on every refresh).
        advertiser_id: the Juguang advertiser (ad account) to report on.
        user_id: the Pugongying brand user id (报备品牌账号id) for ``kol_notes``;
            defaults to the ``user_id`` of the Juguang token response.
        ark_app_id, ark_app_secret, ark_access_token: the Ark app and shop authorisation.
        pgy_auth_header: how Pugongying calls carry the token: ``"Access-Token"``
            (as Juguang) or ``"Bearer"`` (``Authorization: Bearer``); not documented.
        throttle_codes: Juguang/Pugongying codes meaning "throttled" (not published).
        token_expired_codes: Juguang/Pugongying codes meaning "access token expired" (not published).
        throttle_wait_seconds: wait before retrying a throttled call (the platforms send no wait).
        touchpoints_path: path of the crowd behaviour data endpoint (no public doc; see README).
        initial_days: how far back a first run without a cursor fetches.
        report_lookback_days: days of offline reports re-fetched on every run (late corrections).
        kol_refresh_days: days of published KOL notes re-fetched on every run (their metrics grow).
        ark_window_hours: length of the created-time windows of the Ark order walk (at most 24).
    """

    base_url: str = "https://adapi.xiaohongshu.com"
    ads_base_url: str = "https://adapi.xiaohongshu.com"
    ark_base_url: str = "https://ark.xiaohongshu.com"
    app_id: int
    secret: SecretStr
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    advertiser_id: int
    user_id: str | None = None
    ark_app_id: str | None = None
    ark_app_secret: SecretStr | None = None
    ark_access_token: SecretStr | None = None
    pgy_auth_header: Literal["Access-Token", "Bearer"] = "Access-Token"
    throttle_codes: list[int] = Field(default_factory=lambda: [codes.JG_THROTTLED])
    token_expired_codes: list[int] = Field(default_factory=lambda: [codes.JG_TOKEN_INVALID])
    throttle_wait_seconds: float = Field(default=1.0, ge=0)
    touchpoints_path: str = "/api/open/jg/data/crowd/event/list"
    initial_days: int = Field(default=31, ge=1)
    report_lookback_days: int = Field(default=3, ge=0)
    kol_refresh_days: int = Field(default=30, ge=0)
    ark_window_hours: float = Field(default=24.0, gt=0, le=24)

    @field_validator("ads_base_url", "ark_base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("touchpoints_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be a path starting with /")
        return value
