"""Commands come from plugins: an installed package adds one through `register_commands`, and
the built-in commands are themselves built-in plugins registered the same way."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from ictindex.cli import build_cli
from plugins.manager import DEFAULT_PLUGINS, get_plugin_manager

GREETER = '''
import click
from plugins import hookimpl


@hookimpl
def register_commands(cli):
    @cli.command("greet")
    @click.argument("name")
    def greet(name):
        """Greet NAME from a plugin."""
        click.echo(f"Hello, {name}, from a plugin")
'''


def test_a_plugin_adds_a_command_that_help_lists_and_that_runs(site, tmp_path):
    site.install("greeter", "1.0", {"greeter": "greeter_plugin"}, {"greeter_plugin": GREETER})
    cli = build_cli()
    try:
        runner = CliRunner()
        listed = runner.invoke(cli, ["--help"], catch_exceptions=False)
        assert listed.exit_code == 0
        assert any(line.split()[:1] == ["greet"] and "Greet NAME from a plugin." in line
                   for line in listed.stdout.splitlines()), listed.stdout
        ran = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "greet", "Vũng Tàu"], catch_exceptions=False)
        assert (ran.exit_code, ran.stdout) == (0, "Hello, Vũng Tàu, from a plugin\n")
        # The console script builds the same group: the command is there in a real process too.
        script = subprocess.run([sys.executable, "-c", "from ictindex.cli import main; main()", "greet", "Huế"],
                                capture_output=True, text=True, cwd=tmp_path)
        assert (script.returncode, script.stdout) == (0, "Hello, Huế, from a plugin\n"), script.stderr
    finally:
        cli.commands.pop("greet", None)  # the group is the process's: leave it as it was


def test_every_built_in_command_is_registered_by_a_built_in_plugin():
    pm = get_plugin_manager(env={"ICTINDEX_LOAD_PLUGINS": ""})
    group = click.Group("ictindex")
    by_plugin = {}
    for impl in pm.hook.register_commands.get_hookimpls():
        before = set(group.commands)
        impl.function(cli=group)
        by_plugin[impl.plugin_name] = set(group.commands) - before
    assert all(name in DEFAULT_PLUGINS for name in by_plugin)
    assert all(commands for commands in by_plugin.values()), by_plugin
    assert set(group.commands) == set(build_cli().commands)
    assert by_plugin["ictindex.cli.replay"] >= {"rank", "explain", "diff", "publish"}


def test_the_root_module_defines_no_command_itself():
    """No module adds commands as a side effect of its import: the root group alone is empty."""
    fresh = subprocess.run(
        [sys.executable, "-c", "import ictindex.cli as c; print(sorted(c.cli.commands))"],
        capture_output=True, text=True, check=True)
    assert fresh.stdout == "[]\n"
