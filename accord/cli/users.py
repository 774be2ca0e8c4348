"""`accord users ...`: the secretariat's console accounts."""

from __future__ import annotations

import sys

import typer

from accord.cli.common import context, fail, print_json

app = typer.Typer(help="Console accounts of the secretariat's staff.", no_args_is_help=True)


@app.command()
def add(
    email: str = typer.Argument(..., help="The person's email address (their login)."),
    name: str = typer.Option(..., "--name", help="Their name, as the console shows it."),
    role: str = typer.Option(..., "--role", help="secretariat (does everything) or viewer."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Add an account; print the one-time link (valid 24 h) that sets its password."""
    from accord.services.users import PasswordLink, add_user

    password = _read_password() if password_stdin else None
    result = add_user(context(), email, name=name, role=role, password=password)
    if isinstance(result, PasswordLink):
        typer.echo(f"added {result.user.email} ({result.user.role})")
        _print_link(result)
    else:
        typer.echo(f"added {result.email} ({result.role}) with the password given")


@app.command("list")
def list_(json_: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """Every account, its role and whether it can log in."""
    from accord.services.users import list_users

    users = list_users(context())
    if json_:
        print_json(users)
        return
    for user in users:
        state = "disabled" if user.disabled else ("active" if user.has_password else "no password")
        typer.echo(f"{user.email:<40} {user.role:<12} {state:<12} {user.name}")


@app.command()
def disable(email: str = typer.Argument(..., help="The account's email.")) -> None:
    """The account can no longer log in; its open sessions end."""
    from accord.services.users import disable_user

    user = disable_user(context(), email)
    typer.echo(f"disabled {user.email}")


@app.command("reset-password")
def reset_password(email: str = typer.Argument(..., help="The account's email.")) -> None:
    """Print a new one-time link (valid 24 h) that sets the account's password."""
    from accord.services.users import reset_password as reset

    _print_link(reset(context(), email))


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password on standard input")
    return password


def _print_link(link: object) -> None:
    from accord.services.users import PasswordLink

    assert isinstance(link, PasswordLink)
    typer.echo(f"set-password link (one use, until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
    typer.echo(link.url)
