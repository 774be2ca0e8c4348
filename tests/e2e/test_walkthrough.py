"""The README's walkthrough ("A statement, start to finish") runs as written (issue 17, item 6):
its two shell blocks, in bash, from the repository's root, on a fresh ACCORD_HOME, with the
person in between (who answers as four members from the dev mailbox) played by `answer_four`.

Only the ports change (the test's free ones instead of 8000 and 1025), and the script waits for
`accord web` to listen before going on, as a person typing would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.processes import free_port

ROOT = Path(__file__).parents[2]
SECTION = "### A statement, start to finish"


def walkthrough_blocks() -> list[str]:
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def answer_four(home: str) -> None:
    """Open four invitations in the dev mailbox and press Endorse on each one's page."""
    import httpx

    from accord.mail.devmailbox import list_messages, read_message

    folder = Path(home) / "mailbox"
    invitations = [e for e in list_messages(folder) if "Endorsement" in e.subject][:4]
    assert len(invitations) == 4, [e.subject for e in list_messages(folder)]
    for entry in invitations:
        link = next(x for x in read_message(folder, entry.id).links if "/r/" in x)
        assert httpx.get(link).status_code == 200
        assert httpx.post(link, data={"decision": "endorse"}).status_code == 200


@pytest.mark.slow
def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    first, second = walkthrough_blocks()
    assert "accord web &" in first and "kill %1" in second
    web_port, smtp_port = free_port(), free_port()
    home = tmp_path / "home"
    ready = (
        f"{sys.executable} -c 'from tests.e2e.processes import wait_for, healthy; "
        f'wait_for(lambda: healthy("http://127.0.0.1:{web_port}/healthz"), "accord web", 30)\''
    )
    person = f"{sys.executable} -c 'from tests.e2e.test_walkthrough import answer_four; "
    person += f'answer_four("{home}")\''
    script = "\n".join(
        [
            "set -e",
            "trap 'kill %1 2>/dev/null || true' EXIT",
            first.replace("accord web &", f"accord web --port {web_port} &\n{ready}"),
            person,
            second,
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCORD_", "PREFECT_API"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        ACCORD_HOME=str(home),
        ACCORD_SMTP_PORT=str(smtp_port),
        ACCORD_PUBLIC_URL=f"http://127.0.0.1:{web_port}",
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "7 created" in out and "statement 1 'International Migrants Day'" in out
    assert "WARNING" not in out  # every invitation left
    assert re.search(r"deadline \d{4}-\d\d-\d\d 23:59 \(Europe/Paris, UTC\+0[12]00\)", out)
    assert "endorse 4  decline 0  abstain 0  pending 3" in out
    assert "signatories: 4" in out
    page = home / "site" / "international-migrants-day.html"
    assert "Endorsed by" in page.read_text(encoding="utf-8")
