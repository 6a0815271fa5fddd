"""Pipeline configuration: the TOML file, validated by pydantic.

A pipeline file names the output folder, the platforms with their credentials
and streams, and the settings of the stitch, asset-matching, attribution and
AIPL steps::

    output_dir = "out"                       # relative to this file's folder

    [platforms.tmall]
    app_key = "12345678"
    app_secret = "${TMALL_APP_SECRET}"       # from the environment
    streams = ["orders", "members"]
    timeout_seconds = "${TMALL_TIMEOUT:-30}" # with a default

    [stitch]
    max_component_size = 500

Every string value may reference environment variables as ``${NAME}`` or
``${NAME:-default}`` (the default applies when the variable is unset or
empty); write ``$${`` for a literal ``${``. A platform table written with
``enabled = false`` may reference unset variables (they stay as written).

Each ``[platforms.<name>]`` table is kept raw in :class:`PipelineConfig` and
validated against that platform plugin's own model (a subclass of
:class:`PlatformConfig`) by :func:`validate_platform_config`.

Every problem is reported as one line of a :class:`~omniplug.errors.ConfigError`:
``pipeline.toml: platforms.tmall.app_key: field required (expected a string)``.
Secret values never appear in messages or reprs.

Environment references are resolved by :mod:`omniplug.config_env` and
validation errors worded by :mod:`omniplug.config_errors`; :func:`resolve_env`
is re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from omniplug.config_env import resolve_env, with_templates
from omniplug.config_errors import Loc, describe_value, problem_line, validation_problems
from omniplug.errors import ConfigError, PluginError
from omniplug.schema import TABLES

__all__ = [
    "ATTRIBUTION_MODELS", "PlatformConfig", "StitchConfig", "AssetsConfig", "AttributionConfig",
    "AiplConfig", "PipelineConfig", "load_pipeline", "validate_platform_config", "resolve_env",
    "config_fingerprint",
]

#: Attribution models the core implements (DESIGN §5).
ATTRIBUTION_MODELS = (
    "last_touch", "first_touch", "linear", "time_decay", "position_based", "weighted",
    "markov", "markov_2", "markov_3", "shapley", "shapley_exact",
)


# -- models ------------------------------------------------------------------


class PlatformConfig(BaseModel):
    """Settings every platform shares; each plugin's configuration model subclasses it.

    Subclasses give the platform's real endpoint as ``base_url``'s default and
    declare credentials as ``SecretStr`` (so reprs, logs and errors show
    ``**********``). Unknown keys are errors, so a typo never passes silently.

    Attributes:
        base_url: the API endpoint (``http://`` or ``https://``).
        enabled: ``false`` skips the platform in ``omniplug run``.
        streams: the streams to fetch; ``None`` means all the platform has.
        rate_limit_per_second: client-side request rate, ``None`` for the plugin's default.
        rate_limit_burst: requests allowed at once above the rate, ``None`` for the default.
        timeout_seconds: per-request timeout.
        max_attempts: tries per request, the first included.
        account: which of the brand's accounts (shops) on the platform; keys cursors and tokens.
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str
    enabled: bool = True
    streams: list[str] | None = None
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    rate_limit_burst: int | None = Field(default=None, ge=1)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    account: str = Field(default="default", min_length=1)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StitchConfig(_Section):
    """``[stitch]``: guardrails of identity stitching (see :func:`omniplug.stitch`).

    Every field left out takes the core's recommended default (see
    ``omniplug.identity.DEFAULT_GUARDRAILS``).

    Attributes:
        max_component_size: the most identifiers one person may hold.
        max_ids_per_type: per identifier type, the most distinct values one person may hold.
        type_priority: identifier types from most to least trusted (decides which link a cap cuts).
        hub_degree: an identifier linked to more distinct identifiers than this is a hub and is cut.
        hub_degree_per_type: per-type overrides of ``hub_degree``.
        blocked_values: identifier values never used for linking (test phones, shared devices),
            on top of the built-in placeholders and test numbers.
        cap_order: which links a cap keeps: ``"trust"`` (default) the most trusted and recent,
            ``"arrival"`` the first observed (the order under which daily runs equal a rebuild).
    """

    max_component_size: PositiveInt | None = None
    max_ids_per_type: dict[str, PositiveInt] | None = None
    type_priority: list[str] | None = None
    hub_degree: PositiveInt | None = None
    hub_degree_per_type: dict[str, PositiveInt] | None = None
    blocked_values: list[str] = Field(default_factory=list)
    cap_order: Literal["trust", "arrival"] = "trust"


class AssetsConfig(_Section):
    """``[assets]``: material fingerprinting and matching.

    Attributes:
        enabled: fingerprint materials and group them into assets.
        max_distance: largest Hamming distance (of 64 bits) between two
            window hashes that makes their materials one asset; ``None`` uses
            the core's tuned default.
        max_image_bytes: largest image read (a bigger file is rejected unread).
        max_video_bytes: largest video read.
        media_timeout_seconds: seconds per media request.
    """

    enabled: bool = True
    max_distance: int | None = Field(default=None, ge=0, le=32)
    max_image_bytes: PositiveInt = 32 * 1024 * 1024
    max_video_bytes: PositiveInt = 512 * 1024 * 1024
    media_timeout_seconds: float = Field(default=30.0, gt=0)


class AttributionConfig(_Section):
    """``[attribution]``: the models run and how results are grouped.

    Attributes:
        models: attribution models (see :data:`ATTRIBUTION_MODELS`).
        lookback_days: days a touch counts before an order; a number, or a table
            keyed by event type (``default`` for the others), e.g. ``{impression = 1, default = 30}``.
        half_life_days: half-life of the ``time_decay`` model.
        weights: of the ``weighted`` model: an industry preset (``beauty``,
            ``apparel``, ``3c``, ``fmcg``) or a table of event type to weight.
        group_by: touchpoint columns the results are grouped by, or
            ``asset_id`` (the cross-platform asset of the touch's material).
            The default is the finest level spend is reported at, so any
            coarser view (per platform, per KOL...) is a sum of its rows.
    """

    models: list[str] = Field(default_factory=lambda: ["last_touch", "linear"], min_length=1)
    lookback_days: PositiveInt | dict[str, PositiveInt] = 30
    half_life_days: float = Field(default=7.0, gt=0)
    weights: str | dict[str, float] | None = None
    group_by: list[str] = Field(default_factory=lambda: ["platform", "channel", "campaign_id", "kol_id",
                                                           "material_id", "asset_id"])

    @field_validator("models")
    @classmethod
    def _known_models(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in ATTRIBUTION_MODELS]
        if unknown:
            raise ValueError(f"unknown model {unknown[0]!r} (allowed: {', '.join(ATTRIBUTION_MODELS)})")
        return value

    @field_validator("group_by")
    @classmethod
    def _touchpoint_columns(cls, value: list[str]) -> list[str]:
        columns = [*TABLES["touchpoints"].names, "asset_id"]
        unknown = [c for c in value if c not in columns]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a touchpoints column (allowed: {', '.join(columns)})")
        return value


class AiplConfig(_Section):
    """``[aipl]``: the AIPL funnel.

    ``as_of`` is the date the funnel is computed for (``None``: the last day of
    the data, China time); ``flow_days``: ``aipl_flows.parquet`` counts the
    persons moving between stages from ``as_of - flow_days`` to ``as_of``
    (0: no flows table).
    """

    as_of: date | None = None
    flow_days: int = Field(default=7, ge=0, le=3650)


class PipelineConfig(BaseModel):
    """A validated pipeline file (see :func:`load_pipeline`).

    Attributes:
        output_dir: absolute output folder (a relative path in the file is
            resolved against the file's folder).
        platforms: the raw ``[platforms.<name>]`` tables, environment references
            resolved; validate each with :meth:`platform` or
            :func:`validate_platform_config`. Left out of the repr (secrets).
        stitch, assets, attribution, aipl: the step settings.
    """

    model_config = ConfigDict(extra="forbid")

    output_dir: Path = Field(default=Path("output"), validate_default=True)
    platforms: dict[str, dict[str, Any]] = Field(default_factory=dict, repr=False)
    stitch: StitchConfig = Field(default_factory=StitchConfig)
    assets: AssetsConfig = Field(default_factory=AssetsConfig)
    attribution: AttributionConfig = Field(default_factory=AttributionConfig)
    aipl: AiplConfig = Field(default_factory=AiplConfig)

    _source: Path | None = PrivateAttr(default=None)
    # key path -> the string as written, for values that came from ${...}.
    _env_templates: dict[Loc, str] = PrivateAttr(default_factory=dict)

    @field_validator("output_dir", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("output_dir")
    @classmethod
    def _absolute(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base_dir") or os.getcwd()
        return Path(os.path.normpath(Path(base) / value.expanduser()))

    @property
    def source(self) -> Path | None:
        """The file this configuration was loaded from, if any."""
        return self._source

    def platform(
        self, name: str, model: type[PlatformConfig], *, known_streams: Iterable[str] | None = None
    ) -> PlatformConfig:
        """Validate ``[platforms.<name>]`` (an empty table if absent) against ``model``."""
        return validate_platform_config(
            name, self.platforms.get(name, {}), model, source=self._source, known_streams=known_streams
        )


# -- loading -----------------------------------------------------------------


def load_pipeline(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> PipelineConfig:
    """Read, resolve and validate a pipeline file.

    ``env`` replaces ``os.environ`` for ``${...}`` references (tests, embedding).

    Raises:
        ConfigError: one line per problem, each naming the file and the key
            (or line and column for TOML syntax errors).
    """
    source = os.fspath(path)
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the pipeline file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{source}:{line}: not UTF-8 text (save the file as UTF-8)") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if where:
            message = message[: where.start()]
            location = f"{where.group(1)}:{where.group(2)}"
        else:
            message = re.sub(r"\s*\(at end of document\)$", "", message)
            location = str(text.count("\n") + 1)
        raise ConfigError(f"{source}:{location}: {message[:1].lower()}{message[1:]}") from None
    templates: dict[Loc, str] = {}
    resolved = resolve_env(document, env=env, source=source, templates=templates)
    base_dir = Path(os.path.abspath(file)).parent
    try:
        config = PipelineConfig.model_validate(resolved, context={"base_dir": base_dir})
    except ValidationError as exc:
        # `from None`: pydantic's own text quotes input values, secrets included.
        raise ConfigError("\n".join(validation_problems(exc, PipelineConfig, resolved, (), source))) from None
    config._source = file
    config._env_templates = templates
    return config


def validate_platform_config(
    platform: str,
    raw: Mapping[str, Any],
    model: type[PlatformConfig],
    *,
    source: str | os.PathLike[str] | None = None,
    known_streams: Iterable[str] | None = None,
) -> PlatformConfig:
    """Validate one platform's raw table against the plugin's model.

    ``raw`` is a table of :attr:`PipelineConfig.platforms` (environment
    references already resolved; use :func:`resolve_env` for a table from
    elsewhere). ``source`` (the pipeline file) prefixes the messages;
    ``known_streams``, if given, are the platform's streams and anything else
    in ``streams`` is an error.

    Raises:
        ConfigError: one line per problem, e.g.
            ``pipeline.toml: platforms.tmall.app_key: field required (expected a string)``.
        PluginError: ``model`` is not a :class:`PlatformConfig` subclass.
    """
    if not (isinstance(model, type) and issubclass(model, PlatformConfig)):
        raise PluginError(f"the configuration model of platform {platform!r} must subclass PlatformConfig")
    src = os.fspath(source) if source is not None else None
    prefix: Loc = ("platforms", platform)
    if not isinstance(raw, Mapping):
        raise ConfigError(problem_line(src, prefix, f"expected a table, got {describe_value(raw, False)}"))
    try:
        config = model.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError("\n".join(validation_problems(exc, model, raw, prefix, src))) from None
    if known_streams is not None and config.streams is not None:
        available = list(known_streams)
        bad = [
            problem_line(src, (*prefix, "streams", i), f"unknown stream {s!r} (available: {', '.join(available)})")
            for i, s in enumerate(config.streams)
            if s not in available
        ]
        if bad:
            raise ConfigError("\n".join(bad))
    return config


def config_fingerprint(
    config: PipelineConfig | PlatformConfig, platforms: Mapping[str, PlatformConfig] | None = None
) -> str:
    """A stable SHA-256 (hex) of a resolved configuration, independent of secret values.

    ``SecretStr`` fields count only as present or absent. For a
    :class:`PipelineConfig`, pass the validated ``platforms`` where you have
    them; a platform given only as its raw table counts its ``${...}``
    references as written (not their values), so rotating a secret kept in
    the environment does not change the fingerprint.
    """
    if isinstance(config, PipelineConfig):
        document = config.model_dump(mode="json", exclude={"platforms"})
        validated = platforms or {}
        document["platforms"] = {
            name: (
                validated[name].model_dump(mode="json")
                if name in validated
                else with_templates(raw, ("platforms", name), config._env_templates)
            )
            for name, raw in config.platforms.items()
        }
    else:
        document = config.model_dump(mode="json")
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
