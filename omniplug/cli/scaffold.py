"""``omniplug new-plugin``: scaffold a platform plugin distribution (see :mod:`omniplug.scaffold`)."""

from __future__ import annotations

from pathlib import Path

import click

from omniplug.cli import cli

__all__ = ["new_plugin_cmd"]


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dest", "dest", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder to create (default: ./omniplug-NAME). It may exist if it is empty.")
@click.option("--display-name", default=None,
              help="How docs and messages name the platform (default: from NAME, e.g. acme_mall -> 'Acme Mall').")
@click.option("--force", is_flag=True,
              help="Allow a NAME an installed plugin already provides, and overwrite the generated files in a "
                   "non-empty --dest (other files there are kept).")
def new_plugin_cmd(name: str, dest: Path | None, display_name: str | None, force: bool) -> None:
    """Scaffold a plugin distribution for platform NAME that passes the contract suite as generated.

    NAME is a lower-case identifier (a-z, 0-9, '_'), e.g. acme_mall. The
    generated plugin talks to a local simulator of a typical signed
    open-platform API, serving the platform's slice of omniplug's synthetic
    world; you then replace the simulated API with the real one.

    \b
    Generated in DIR (default ./omniplug-NAME):
      pyproject.toml                the distribution omniplug-NAME and its 'omniplug' entry point
      README.md                     what to replace with the real platform's API, file by file
      omniplug_NAME/plugin.py       config model (secrets as SecretStr), streams orders and
                                    touchpoints, fetch loops with resumable cursors
      omniplug_NAME/client.py       HMAC-SHA256 request signing, error envelope, token refresh
      omniplug_NAME/normalise.py    raw records -> canonical tables, phones hashed
      omniplug_NAME/simulator.py    the simulated API: signature, token, paging and throttling checks
      omniplug_NAME/sim_world.py    the platform's slice of the synthetic world, in its own shapes
      tests/test_contract.py        omniplug's plugin contract suite
      tests/test_client.py          signing, refusals, token refresh, throttling
      tests/test_normalise.py       field mapping, rejects, fetch + normalise == the world slice

    \b
    Next steps:
      pip install -e DIR            install it; `omniplug plugins` now lists NAME
      pytest DIR                    run its tests against its simulator (they pass as generated)
      omniplug simulate NAME        try the simulator by hand
    Then follow DIR/README.md (and docs/plugin-guide.md) to point it at the real API.
    """
    from omniplug.scaffold import default_dest, generate

    target = dest if dest is not None else default_dest(name)
    path = generate(name, target, display_name=display_name, force=force)
    click.echo(f"Created {path} (platform {name!r}, package omniplug_{name}).")
    click.echo("Next steps:")
    click.echo(f"  pip install -e {target}")
    click.echo(f"  pytest {target}")
    click.echo(f"  then follow {target / 'README.md'} to point it at the real {name} API")
