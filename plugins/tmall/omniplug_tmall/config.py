"""``[platforms.tmall]``: the app's credentials, the shop's authorisation and the stream settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from omniplug.config import PlatformConfig

__all__ = ["DEFAULT_TRADE_TYPES", "TmallConfig"]

#: Every trade type ``taobao.trades.sold.get`` knows. Leaving ``type`` out
#: returns only a default subset (Tmall Global, O2O, e-ticket... trades go
#: missing), so the plugin always sends the full list.
DEFAULT_TRADE_TYPES: tuple[str, ...] = (
    "fixed", "auction", "guarantee_trade", "step", "independent_simple_trade", "independent_shop_trade",
    "auto_delivery", "ec", "cod", "game_equipment", "shopex_trade", "netcn_trade", "external_trade",
    "instant_trade", "b2c_cod", "hotel_trade", "super_market_trade", "super_market_cod_trade", "taohua",
    "waimai", "o2o_offlinetrade", "nopaid", "eticket", "tmall_i18n", "insurance_plus", "finance",
    "pre_auth_type", "lazada",
)


class TmallConfig(PlatformConfig):
    """Settings of the Tmall plugin (Taobao Open Platform, TOP).

    Attributes:
        base_url: the TOP gateway (``/router/rest`` included).
        oauth_url: the OAuth token endpoint used to refresh the session.
        app_key: the app's AppKey.
        app_secret: the app's AppSecret (signs every request).
        session: the shop's authorisation (TOP's ``session`` = OAuth access token).
        refresh_token: refreshes ``session`` when it expires; without it an
            expired session stops the run with a request to re-authorise.
        sign_method: ``md5`` (default), ``hmac`` (HMAC-MD5) or ``hmac-sha256``.
        initial_days: how far back a first run reaches (TOP keeps trades 3 months).
        trade_types: the ``type`` list sent to the trade APIs.
        orders_window_days: width of one ``start_created``/``end_created`` window.
        increment_window_hours: width of one modification-time window (TOP: at most 24).
        increment_lag_seconds: resumed runs stop this far before "now", so that
            records modified while we page leave the window instead of moving inside it.
        members_method, ad_report_method, touchpoints_method, materials_method:
            TOP method names of the streams whose API could not be confirmed
            (see the README); change them if your app has another variant.
        members_window_days, report_window_days, touchpoints_window_days: window widths.
        report_lookback_days: resumed ad-report runs re-read this many finished
            days (offline reports are settled the day after).
    """

    base_url: str = "https://gw.api.taobao.com/router/rest"
    oauth_url: str = "https://oauth.taobao.com/token"
    app_key: str
    app_secret: SecretStr
    session: SecretStr
    refresh_token: SecretStr | None = None
    sign_method: Literal["md5", "hmac", "hmac-sha256"] = "md5"
    initial_days: int = Field(default=90, ge=1, le=3650)
    trade_types: list[str] = Field(default_factory=lambda: list(DEFAULT_TRADE_TYPES), min_length=1)
    orders_window_days: int = Field(default=7, ge=1, le=90)
    increment_window_hours: int = Field(default=24, ge=1, le=24)
    increment_lag_seconds: int = Field(default=300, ge=0, le=86400)
    members_method: str = "taobao.crm.members.increment.get"
    members_window_days: int = Field(default=30, ge=1, le=365)
    ad_report_method: str = "taobao.onebp.dkx.report.report.creative.offline"
    report_window_days: int = Field(default=7, ge=1, le=31)
    report_lookback_days: int = Field(default=1, ge=0, le=30)
    touchpoints_method: str = "taobao.databank.crowd.touch.query"
    touchpoints_window_days: int = Field(default=7, ge=1, le=7)
    materials_method: str = "taobao.onebp.dkx.material.material.findpage"

    @field_validator("oauth_url")
    @classmethod
    def _http_oauth(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value
