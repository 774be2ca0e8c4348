"""The `accord` command lists every command, suggests a near one for a typo, and imports a
group's module (and builds its commands) only when that group is named or listed."""

from __future__ import annotations

import subprocess
import sys

from tests.cli import run

COMMANDS = [
    "web",
    "up",
    "init",
    "sweep",
    "members",
    "groups",
    "kinds",
    "report",
    "actions",
    "statements",
    "rounds",
    "replies",
    "audit",
    "data",
    "users",
]


def test_the_help_lists_every_command_in_order() -> None:
    shown = run("--help")
    assert shown.code == 0
    listed = shown.stdout.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.strip()] == COMMANDS
    assert "  kinds       Kinds of statement and what endorsing each means." in listed


def test_a_group_shows_its_own_commands() -> None:
    shown = run("members", "--help")
    assert shown.code == 0 and "Usage: accord members [OPTIONS] COMMAND" in shown.stdout
    assert "  import  Import or update members (matched by email)." in shown.stdout


def test_a_mistyped_command_gets_a_suggestion() -> None:
    typo = run("rond", "status", "1")
    assert typo.code == 2
    assert "No such command 'rond'. Did you mean 'rounds'?" in typo.stderr


def test_only_the_named_group_is_imported() -> None:
    probe = (
        "import sys; sys.argv = ['accord', 'rounds', '--help']\n"
        "from accord.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('accord.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == (
        "['accord.cli.common', 'accord.cli.rounds', 'accord.cli.web']"
    )
