"""Run the `accord` command in-process (fast, same code path as the console script) or as a
real subprocess (what a user runs; a few tests per command do this)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def run(*args: str | Path) -> Run:
    """`accord ARGS` in this process, with the environment the test set (monkeypatch)."""
    from accord.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    saved = sys.argv
    sys.argv = ["accord", *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return Run(code, out.getvalue(), err.getvalue())


def _command(args: tuple[str | Path, ...], env: dict[str, str] | None) -> tuple[list[str], dict]:
    # Neither accord's settings nor a Prefect server of the developer's unless the test says so.
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ACCORD_") and k != "PREFECT_API_URL"
    }
    full_env.update(env or {})
    return [str(Path(sys.executable).parent / "accord"), *map(str, args)], full_env


def accord(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """`accord ARGS` as a user runs it: a new process with the installed console script."""
    command, full_env = _command(args, env)
    done = subprocess.run(
        command, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


def spawn(
    *args: str | Path, env: dict[str, str] | None = None, output: Path | None = None
) -> subprocess.Popen[str]:
    """`accord ARGS` started and left running (to be waited for, or killed, by the test); its
    stdout and stderr go to pipes, or both to the file `output` (for a chatty server)."""
    command, full_env = _command(args, env)
    if output is None:
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env
        )
    with output.open("w", encoding="utf-8") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, text=True, env=full_env
        )
