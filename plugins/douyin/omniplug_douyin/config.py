"""``[platforms.douyin]``: credentials of the three gateways and the knobs of the streams."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from omniplug.config import PlatformConfig
from omniplug.errors import ConfigError
from omniplug_douyin.common import PLATFORM

__all__ = ["OCEAN_HOST", "OPEN_HOST", "SHOP_HOST", "DouyinConfig"]

OCEAN_HOST = "https://ad.oceanengine.com"
OPEN_HOST = "https://open.douyin.com"
SHOP_HOST = "https://openapi-fxg.jinritemai.com"


def _check_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


class DouyinConfig(PlatformConfig):
    """The brand's Douyin accounts: Ocean Engine (ads, Xingtu), the open platform and the Doudian shop.

    Ocean Engine (needed by ``ad_reports``, ``materials``, ``touchpoints``, ``xingtu_orders``):
        ``app_id`` and ``secret`` of the developer app; ``access_token`` and
        ``refresh_token`` from the advertiser's authorisation (rotated tokens
        are kept in the state database from then on); ``advertiser_id``;
        ``star_id`` the Xingtu account (defaults to ``advertiser_id``).
    Douyin open platform (``identities``):
        ``client_key``, ``client_secret``, ``open_access_token``,
        ``open_refresh_token`` and the brand account's ``open_id``.
    Doudian shop (``shop_orders``):
        ``shop_app_key``, ``shop_app_secret``, ``shop_access_token``, ``shop_refresh_token``.

    Hosts: ``base_url`` is the Ocean Engine host (``ads_base_url``, when set,
    overrides it); ``open_base_url`` and ``shop_base_url`` the other two.
    """

    base_url: str = OCEAN_HOST
    ads_base_url: str | None = None
    open_base_url: str = OPEN_HOST
    shop_base_url: str = SHOP_HOST

    app_id: str
    secret: SecretStr
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    advertiser_id: str
    star_id: str | None = None

    client_key: str | None = None
    client_secret: SecretStr | None = None
    open_access_token: SecretStr | None = None
    open_refresh_token: SecretStr | None = None
    open_id: str | None = None

    shop_app_key: str | None = None
    shop_app_secret: SecretStr | None = None
    shop_access_token: SecretStr | None = None
    shop_refresh_token: SecretStr | None = None

    initial_days: int = Field(default=31, ge=1)
    report_page_size: int = Field(default=1000, ge=1, le=1000)
    #: Ocean Engine codes that mean "refresh the access token" (40102 is unconfirmed).
    ocean_token_expired_codes: list[int] = Field(default_factory=lambda: [40102, 40105])
    #: Seconds to wait after a frequency-control answer (40100/40110 say no wait).
    throttle_wait_seconds: float = Field(default=1.0, ge=0)
    #: Path of the crowd touch-data API (user-level; not publicly documented).
    touch_events_path: str = "/open_api/2/dmp/brand_touch/list/"

    _check_hosts = field_validator("ads_base_url", "open_base_url", "shop_base_url")(_check_url)

    @property
    def ocean_url(self) -> str:
        """The Ocean Engine host in use."""
        return self.ads_base_url or self.base_url

    @property
    def xingtu_star_id(self) -> str:
        """The Xingtu account id (``star_id``, else ``advertiser_id``)."""
        return self.star_id or self.advertiser_id

    def require(self, stream: str, *names: str) -> None:
        """Raise a clear :class:`ConfigError` when a credential ``stream`` needs is not configured."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise ConfigError(f"{PLATFORM}/{stream} needs {', '.join(missing)} in [platforms.{PLATFORM}]")
