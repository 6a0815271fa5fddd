"""``omniplug new-plugin``: the generated distribution installs, lists itself and passes its own tests.

The generated plugin is installed with ``pip install --target`` into a
folder of the test's own (never into the shared virtual environment) and its
tests run in a subprocess whose ``PYTHONPATH`` holds that folder, so the
``omniplug`` entry point is found exactly as after a user's ``pip install``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import omniplug.cli.scaffold  # noqa: F401  (registers `new-plugin` on the CLI group)
from omniplug.cli import cli
from omniplug.errors import InvalidInputError
from omniplug.plugins import load_registry
from omniplug.scaffold import generate, render, render_files, template_context, validate_name
from omniplug.testing import PluginContract

NAME = "acme_mall"
PACKAGE = "omniplug_acme_mall"
GENERATED = {
    "README.md", "pyproject.toml",
    f"{PACKAGE}/__init__.py", f"{PACKAGE}/client.py", f"{PACKAGE}/normalise.py", f"{PACKAGE}/plugin.py",
    f"{PACKAGE}/sim_world.py", f"{PACKAGE}/simulator.py",
    "tests/conftest.py", "tests/test_client.py", "tests/test_contract.py", "tests/test_normalise.py",
}
CONTRACT_TESTS = sorted(name for name in dir(PluginContract) if name.startswith("test_"))


# -- the generated distribution, installed and tested for real ------------------------------------


def _env(site: Path) -> dict[str, str]:
    # The outer run's plugin filter and pytest options must not leak into the generated plugin's run.
    env = {k: v for k, v in os.environ.items() if k not in ("OMNIPLUG_LOAD_PLUGINS", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    return env


def _python(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # -P: the working folder (the generated source) must not shadow the installed package.
    return subprocess.run([sys.executable, "-P", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(generated source folder, install target)``: generated, then pip-installed into the target."""
    for needed in ("pip", "setuptools"):
        assert importlib.util.find_spec(needed), f"{needed} must be installed in the test environment"
    root = tmp_path_factory.mktemp("scaffold")
    source = generate(NAME, root / "omniplug-acme-mall", display_name="Acme Mall")
    site = root / "site"
    proc = _python("-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index", "--no-cache-dir",
                   "--no-deps", "--no-build-isolation", "--target", str(site), str(source), cwd=root, env=_env(site))
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout}\n{proc.stderr}"
    assert (site / PACKAGE / "plugin.py").exists()
    return source, site


def test_generated_plugin_passes_its_tests_and_the_contract_suite(installed: tuple[Path, Path]) -> None:
    source, site = installed
    proc = _python("-m", "pytest", "-v", "-p", "no:cacheprovider", str(source), cwd=source, env=_env(site))
    report = f"{proc.stdout}\n{proc.stderr}"
    assert proc.returncode == 0, f"the generated plugin's tests failed:\n{report[-6000:]}"
    assert not re.search(r"\b(failed|skipped|error)\b", proc.stdout.splitlines()[-1]), report[-2000:]
    for name in CONTRACT_TESTS:
        assert re.search(rf"test_contract\.py::TestAcmeMallContract::{name} PASSED", proc.stdout), name
    for own in ("test_client.py::test_a_throttled_call_waits_as_asked_on_the_simulated_clock",
                "test_normalise.py::test_fetch_and_normalise_give_back_the_world_slice"):
        assert f"{own} PASSED" in proc.stdout, own


def test_installed_plugin_is_listed_by_omniplug_plugins(installed: tuple[Path, Path]) -> None:
    source, site = installed
    proc = _python("-m", "omniplug.cli", "plugins", "--json", cwd=source, env=_env(site))
    assert proc.returncode == 0, proc.stderr
    listed = {p["name"]: p for p in json.loads(proc.stdout)["platforms"]}
    assert NAME in listed, sorted(listed)
    assert [s["name"] for s in listed[NAME]["streams"]] == ["orders", "touchpoints"]
    assert listed[NAME]["identifier_types"] == ["acme_mall_uid"]
    assert listed[NAME]["plugin"]


def test_generated_tests_catch_a_broken_normalise(installed: tuple[Path, Path]) -> None:
    """The generated tests can fail: amounts read as yuan instead of fen are caught."""
    source, site = installed
    broken = site.parent / "broken-site"
    shutil.copytree(site, broken)
    module = broken / PACKAGE / "normalise.py"
    text = module.read_text(encoding="utf-8")
    assert 'fen_to_yuan(rec["total_fee"])' in text
    module.write_text(text.replace('fen_to_yuan(rec["total_fee"])', 'fen_to_yuan(rec["total_fee"]) * 100'),
                      encoding="utf-8")
    proc = _python("-m", "pytest", "-q", "-p", "no:cacheprovider", str(source / "tests" / "test_normalise.py"),
                   "-k", "order_maps_to_canonical_rows", cwd=source, env=_env(broken))
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "1 failed" in proc.stdout.splitlines()[-1] and "123.45" in proc.stdout, proc.stdout[-2000:]


# -- names, destinations and the files generated ------------------------------------------------------


@pytest.mark.parametrize(("name", "suggestion"), [
    ("AcmeMall", "acme_mall"), ("acme-mall", "acme_mall"), ("1688", "p_1688"), ("acme_", "acme"),
    ("acme__mall", "acme_mall"), ("", "my_platform"), ("a" * 33, "a" * 32),
])
def test_invalid_names_are_refused_with_a_suggestion(name: str, suggestion: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="lower-case identifier") as refused:
        generate(name, tmp_path / "out")
    assert repr(suggestion) in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_valid_names_pass() -> None:
    for name in ("acme_mall2", "kuaishou", "a" * 32, "class"):
        assert validate_name(name) == name


def test_an_installed_platform_needs_force(tmp_path: Path) -> None:
    installed = sorted(load_registry().platforms)
    assert installed, "the test environment has omniplug's plugins installed"
    taken = installed[0]
    with pytest.raises(InvalidInputError, match=rf"platform named '{taken}' is already installed.*--force"):
        generate(taken, tmp_path / "a")
    assert not (tmp_path / "a").exists()
    assert (generate(taken, tmp_path / "b", force=True) / "pyproject.toml").exists()


def test_an_importable_package_of_the_same_name_needs_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lib" / "omniplug_shadow").mkdir(parents=True)
    (tmp_path / "lib" / "omniplug_shadow" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    with pytest.raises(InvalidInputError, match="package omniplug_shadow at .*--force"):
        generate("shadow", tmp_path / "out")


def test_destination_rules(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert generate(NAME, empty) == empty.resolve()  # an existing empty folder is fine

    with pytest.raises(InvalidInputError, match="not empty.*--dest.*--force"):
        generate(NAME, empty)
    plugin = empty / PACKAGE / "plugin.py"
    original = plugin.read_text()
    plugin.write_text("# edited\n")
    (empty / "NOTES.md").write_text("mine")
    generate(NAME, empty, force=True)
    assert plugin.read_text() == original, "--force rewrites the generated files"
    assert (empty / "NOTES.md").read_text() == "mine", "--force leaves other files alone"

    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(InvalidInputError, match="not a folder"):
        generate(NAME, afile, force=True)


def test_rendered_files_are_complete_valid_and_named_after_the_platform() -> None:
    files = {str(path): text for path, text in render_files(NAME, "Acme Mall").items()}
    assert set(files) == GENERATED
    for path, text in files.items():
        assert "{{" not in text, f"{path}: unrendered placeholder"
        if path.endswith(".py"):
            compile(text, path, "exec")  # a syntax error in a template fails here, not in a user's hands
    project = tomllib.loads(files["pyproject.toml"])
    assert project["project"]["name"] == "omniplug-acme-mall"
    assert project["project"]["entry-points"]["omniplug"] == {NAME: f"{PACKAGE}.plugin:AcmeMallPlugin"}
    assert project["tool"]["setuptools"]["packages"] == [PACKAGE]
    assert 'app_secret = "${ACME_MALL_APP_SECRET}"' in files["README.md"]
    assert "class AcmeMallConfig(PlatformConfig)" in files[f"{PACKAGE}/plugin.py"]
    assert "app_secret: SecretStr" in files[f"{PACKAGE}/plugin.py"]


def test_display_name_is_used_and_checked() -> None:
    context = template_context("kuaishou_shop", "快手小店 Kuaishou")
    assert (context["display"], context["cls"], context["dist"]) == (
        "快手小店 Kuaishou", "KuaishouShop", "omniplug-kuaishou-shop")
    assert template_context("acme_mall")["display"] == "Acme Mall"
    for bad in ('Acme "Mall"', "Acme\\Mall", "Acme {{name}}", "two\nlines", " "):
        with pytest.raises(InvalidInputError, match="display name"):
            template_context("acme_mall", bad)


# -- the renderer ---------------------------------------------------------------------------------------------


def test_render_replaces_placeholders_once_and_verbatim() -> None:
    assert render("x = '{{ a }}-{{b}}'", {"a": "1", "b": "2"}) == "x = '1-2'"
    # Values are never scanned again: a value that looks like a placeholder stays as it is.
    assert render("{{a}}", {"a": "{{b}}"}) == "{{b}}"
    # A literal brace right before a placeholder (shell-style ${VAR}) is kept.
    assert render("${{{upper}}_KEY}", {"upper": "ACME"}) == "${ACME_KEY}"


def test_render_refuses_unknown_and_malformed_placeholders() -> None:
    with pytest.raises(InvalidInputError, match="t.tmpl: no value for placeholder.*missing"):
        render("{{missing}}", {}, source="t.tmpl")
    with pytest.raises(InvalidInputError, match=r"t.tmpl:2: '\{\{' that is not"):
        render("ok\n{{name}", {"name": "x"}, source="t.tmpl")


# -- the command line ------------------------------------------------------------------------------------------


def test_cli_help_teaches_what_is_generated_and_what_next() -> None:
    result = CliRunner().invoke(cli, ["new-plugin", "--help"], obj={})
    assert result.exit_code == 0
    for expected in ("pip install -e DIR", "pytest DIR", "tests/test_contract.py", "README.md", "--force"):
        assert expected in result.output


def test_cli_generates_and_prints_next_steps(tmp_path: Path) -> None:
    dest = tmp_path / "plug"
    result = CliRunner().invoke(cli, ["new-plugin", NAME, "--dest", str(dest), "--display-name", "Acme Mall"],
                                obj={})
    assert result.exit_code == 0, result.output
    assert f"pip install -e {dest}" in result.output and f"pytest {dest}" in result.output
    assert {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()} == GENERATED


def test_cli_reports_a_bad_name_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["new-plugin", "Acme-Mall", "--dest", str(tmp_path / "x")], obj={})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line]
    assert lines == [lines[0]] and lines[0].startswith("omniplug: error: plugin name 'Acme-Mall' is not valid")
    assert "'acme_mall'" in lines[0]
