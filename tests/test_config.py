"""Tests of omniplug.config: the pipeline TOML, env references, readable errors, fingerprints."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from omniplug.config import (
    AttributionConfig,
    PipelineConfig,
    PlatformConfig,
    config_fingerprint,
    load_pipeline,
    resolve_env,
    validate_platform_config,
)
from omniplug.errors import ConfigError, PluginError

SECRET = "s3cr3t-value-never-shown"


class TmallConfig(PlatformConfig):
    """A plugin-style model: real endpoint as default, credentials as SecretStr."""

    base_url: str = "https://eco.taobao.com/router/rest"
    app_key: str
    app_secret: SecretStr
    session_key: SecretStr | None = None


GOOD = """\
output_dir = "out/run1"

[platforms.tmall]
app_key = "12345678"
app_secret = "${TMALL_APP_SECRET}"
timeout_seconds = "${TMALL_TIMEOUT:-12.5}"
streams = ["orders", "members"]

[platforms.jd]
enabled = false
app_secret = "${JD_SECRET_NOT_SET}"

[stitch]
max_component_size = 500
max_ids_per_type = { oaid = 3 }
blocked_values = ["13800138000"]

[assets]
max_distance = 8

[attribution]
models = ["last_touch", "time_decay"]
lookback_days = { paid = 7, default = 30 }
group_by = ["platform", "kol_id"]

[aipl]
as_of = 2024-05-01
"""


def write(tmp_path: Path, text: str, name: str = "pipeline.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(excinfo: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return str(excinfo.value).splitlines()


def test_good_file(tmp_path: Path) -> None:
    config = load_pipeline(write(tmp_path, GOOD), env={"TMALL_APP_SECRET": SECRET})
    assert config.output_dir == tmp_path / "out" / "run1"
    assert config.source == tmp_path / "pipeline.toml"
    assert config.stitch.max_component_size == 500
    assert config.stitch.max_ids_per_type == {"oaid": 3}
    assert config.stitch.blocked_values == ["13800138000"]
    assert config.assets.max_distance == 8
    assert config.attribution.models == ["last_touch", "time_decay"]
    assert config.attribution.lookback_days == {"paid": 7, "default": 30}
    assert config.aipl.as_of == date(2024, 5, 1)
    # disabled platforms may reference unset variables: they stay as written
    assert config.platforms["jd"]["app_secret"] == "${JD_SECRET_NOT_SET}"

    tmall = config.platform("tmall", TmallConfig, known_streams=["orders", "members", "refunds"])
    assert isinstance(tmall, TmallConfig)
    assert tmall.base_url == "https://eco.taobao.com/router/rest"
    assert tmall.app_secret.get_secret_value() == SECRET
    assert tmall.timeout_seconds == 12.5
    assert tmall.streams == ["orders", "members"]
    assert (tmall.enabled, tmall.max_attempts, tmall.account) == (True, 5, "default")


def test_defaults_of_an_almost_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path / "..")
    config = load_pipeline(write(tmp_path, ""))
    assert config.output_dir == tmp_path / "output"
    assert config.platforms == {}
    assert config.stitch.max_component_size is None and config.stitch.max_ids_per_type is None  # core defaults
    assert config.assets.max_distance is None
    assert config.attribution == AttributionConfig(models=["last_touch", "linear"], lookback_days=30,
                                                   group_by=["platform", "channel", "campaign_id", "kol_id",
                                                             "material_id", "asset_id"])
    assert config.assets.enabled and config.assets.max_image_bytes == 32 * 1024 * 1024
    assert config.aipl.as_of is None


def test_relative_output_dir_is_resolved_against_the_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    config = load_pipeline(write(tmp_path / "conf", 'output_dir = "../data/out"'))
    assert config.output_dir == tmp_path / "data" / "out"
    absolute = tmp_path / "abs"
    config = load_pipeline(write(tmp_path, f'output_dir = "{absolute.as_posix()}"'))
    assert config.output_dir == absolute
    # a relative path given to load_pipeline resolves against the cwd, then the file's folder
    monkeypatch.chdir(tmp_path)
    assert load_pipeline(Path("conf/pipeline.toml")).output_dir == tmp_path / "data" / "out"


def test_env_references_defaults_and_escapes() -> None:
    env = {"A": "alpha", "EMPTY": ""}
    data = {
        "x": "${A}", "y": "pre-${A}-${B:-beta}-post", "z": "${EMPTY:-fallback}", "w": "${EMPTY}",
        "lit": "$${A} costs $5", "nested": {"list": ["${A}", 3, True]},
    }
    assert resolve_env(data, env=env) == {
        "x": "alpha", "y": "pre-alpha-beta-post", "z": "fallback", "w": "",
        "lit": "${A} costs $5", "nested": {"list": ["alpha", 3, True]},
    }


def test_env_reference_can_feed_a_number(tmp_path: Path) -> None:
    path = write(tmp_path, '[stitch]\nmax_component_size = "${MAX_SIZE}"\n')
    assert load_pipeline(path, env={"MAX_SIZE": "77"}).stitch.max_component_size == 77


def test_missing_env_var_names_file_key_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('"${TMALL_TIMEOUT:-12.5}"', '"${TMALL_TIMEOUT}"'))
    with pytest.raises(ConfigError) as info:
        load_pipeline(path, env={})
    assert problems(info) == [
        f"{path}: platforms.tmall.app_secret: environment variable TMALL_APP_SECRET is not set",
        f"{path}: platforms.tmall.timeout_seconds: environment variable TMALL_TIMEOUT is not set",
    ]


def test_malformed_env_reference() -> None:
    with pytest.raises(ConfigError, match=r"a\.b: malformed environment reference '\$\{1X\}'"):
        resolve_env({"a": {"b": "${1X}"}}, env={})


def test_missing_credential() -> None:
    with pytest.raises(ConfigError) as info:
        validate_platform_config("tmall", {"app_secret": SECRET}, TmallConfig, source="pipeline.toml")
    assert problems(info) == ["pipeline.toml: platforms.tmall.app_key: field required (expected a string)"]


def test_wrong_types(tmp_path: Path) -> None:
    raw = {"app_key": "k", "app_secret": 12345, "max_attempts": 0, "timeout_seconds": "slow",
           "streams": "orders", "enabled": "perhaps", "base_url": "ftp://x"}
    with pytest.raises(ConfigError) as info:
        validate_platform_config("tmall", raw, TmallConfig)
    assert sorted(problems(info)) == [
        "platforms.tmall.app_secret: expected a string, got an integer",
        "platforms.tmall.base_url: must start with http:// or https://",
        "platforms.tmall.enabled: expected true or false, got a string",
        "platforms.tmall.max_attempts: should be greater than or equal to 1 (got 0)",
        "platforms.tmall.streams: expected a list of strings, got a string",
        "platforms.tmall.timeout_seconds: expected a number, got a string",
    ]
    # the secret field's value is not echoed even though it was a number
    assert "12345" not in str(info.value)


def test_section_errors_are_one_line_each(tmp_path: Path) -> None:
    text = (
        '[stitch]\nmax_component_size = "big"\nmax_ids_per_type = { oaid = 0 }\n'
        '[attribution]\nmodels = ["last_touch", "magic"]\nlookback_days = "long"\ngroup_by = ["nope"]\n'
        "[aipl]\nas_of = 5\n"
        "[platforms]\ntmall = 3\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    lines = problems(info)
    assert lines == [
        f"{path}: platforms.tmall: expected a table, got an integer (3)",
        f"{path}: stitch.max_component_size: expected an integer, got a string",
        f"{path}: stitch.max_ids_per_type.oaid: should be greater than 0 (got 0)",
        f"{path}: attribution.models: unknown model 'magic' (allowed: last_touch, first_touch, linear, "
        "time_decay, position_based, weighted, markov, markov_2, markov_3, shapley, shapley_exact)",
        f"{path}: attribution.lookback_days: expected an integer or a table of integers, got a string",
        f"{path}: attribution.group_by: 'nope' is not a touchpoints column (allowed: event_id, platform, "
        "id_type, id_value, event_time, event_type, channel, campaign_id, kol_id, material_id, product_id, asset_id)",
        f"{path}: aipl.as_of: expected a date (YYYY-MM-DD), got an integer (5)",
    ]


def test_unknown_keys_list_the_allowed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, 'ouput_dir = "x"\n[assets]\nmax_dist = 3\n')
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    assert problems(info) == [
        f"{path}: assets: unknown key 'max_dist' (allowed: enabled, max_distance, max_image_bytes, "
        "max_video_bytes, media_timeout_seconds)",
        f"{path}: unknown key 'ouput_dir' (allowed: output_dir, platforms, stitch, assets, attribution, aipl)",
    ]
    with pytest.raises(ConfigError, match=r"platforms\.tmall: unknown key 'app_secert' \(allowed: base_url, "):
        validate_platform_config("tmall", {"app_key": "k", "app_secret": "s", "app_secert": SECRET}, TmallConfig)


def test_unknown_stream(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        validate_platform_config("tmall", {"app_key": "k", "app_secret": "s", "streams": ["orders", "oders"]},
                                 TmallConfig, source=Path("p.toml"), known_streams=["orders", "members"])
    assert problems(info) == ["p.toml: platforms.tmall.streams[1]: unknown stream 'oders' (available: orders, members)"]


def test_model_must_be_a_platform_config() -> None:
    with pytest.raises(PluginError, match="must subclass PlatformConfig"):
        validate_platform_config("tmall", {}, AttributionConfig)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ('a = 1\nb = "unterminated\n', ":2:", "illegal character"),
        ("a = 1\n\n[x\n", ":3:3:", "expected ']'"),
        ("a = 1\na = 2\n", ":2:", "cannot overwrite a value"),
        ('a = [1,\n', ":2", "invalid value"),
    ],
)
def test_bad_toml_gives_file_and_line(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    [line] = problems(info)
    assert line.startswith(f"{path}{where}")
    assert what in line.lower()


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the pipeline file"):
        load_pipeline(tmp_path / "missing.toml")
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'a = 1\nb = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"latin1\.toml:2: not UTF-8"):
        load_pipeline(path)


def test_secrets_never_shown(tmp_path: Path) -> None:
    config = load_pipeline(write(tmp_path, GOOD), env={"TMALL_APP_SECRET": SECRET})
    tmall = config.platform("tmall", TmallConfig)
    for text in (repr(config), str(config), repr(tmall), str(tmall), str(tmall.model_dump(mode="json"))):
        assert SECRET not in text
    # a wrong-typed value next to a secret: the error names keys, never values
    raw = dict(config.platforms["tmall"], max_attempts="many")
    with pytest.raises(ConfigError) as info:
        validate_platform_config("tmall", raw, TmallConfig)
    assert SECRET not in str(info.value) and info.value.__cause__ is None
    # a secret written under a misspelt key is not echoed either
    with pytest.raises(ConfigError) as info:
        validate_platform_config("tmall", {"app_key": "k", "app_secret": "x", "app_secrett": SECRET}, TmallConfig)
    assert SECRET not in str(info.value)


def test_fingerprint_is_stable_and_secret_independent(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    a = load_pipeline(path, env={"TMALL_APP_SECRET": SECRET})
    b = load_pipeline(path, env={"TMALL_APP_SECRET": "rotated"})
    assert config_fingerprint(a) == config_fingerprint(b)
    assert len(config_fingerprint(a)) == 64
    ta, tb = a.platform("tmall", TmallConfig), b.platform("tmall", TmallConfig)
    assert config_fingerprint(ta) == config_fingerprint(tb)
    assert config_fingerprint(a, {"tmall": ta}) == config_fingerprint(b, {"tmall": tb})
    # literal secrets in the file do not count either once the platform is validated
    c = load_pipeline(write(tmp_path, GOOD.replace("${TMALL_APP_SECRET}", "literal"), "c.toml"))
    assert config_fingerprint(c, {"tmall": c.platform("tmall", TmallConfig)}) == config_fingerprint(a, {"tmall": ta})
    # but real settings do
    d = load_pipeline(write(tmp_path, GOOD.replace("max_component_size = 500", "max_component_size = 501"), "d.toml"),
                      env={"TMALL_APP_SECRET": SECRET})
    assert config_fingerprint(d) != config_fingerprint(a)
    e = load_pipeline(path, env={"TMALL_APP_SECRET": SECRET, "TMALL_TIMEOUT": "60"})
    assert config_fingerprint(e, {"tmall": e.platform("tmall", TmallConfig)}) != config_fingerprint(a, {"tmall": ta})


def test_pipeline_config_built_in_python() -> None:
    config = PipelineConfig(output_dir=Path("/data/out"), platforms={"tmall": {"app_key": "k"}})
    assert config.output_dir == Path("/data/out") and config.source is None
    with pytest.raises(ConfigError, match="platforms.tmall.app_secret: field required"):
        config.platform("tmall", TmallConfig)
