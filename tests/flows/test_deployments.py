"""prefect.yaml and the served deployments say the same; schedules and the automation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from accord.config import load_settings
from flows.deployments import AUTO_PUBLISH, DEPLOYMENT, SECRETARIAT_TIMEZONE, SPECS

ROOT = Path(__file__).resolve().parents[2]


def declared() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["entrypoint"]: d for d in config["deployments"]}


def test_prefect_yaml_declares_every_flow_as_the_code_serves_it() -> None:
    found = declared()
    assert set(found) == {spec.entrypoint for spec in SPECS}
    for spec in SPECS:
        deployment = found[spec.entrypoint]
        assert (ROOT / spec.entrypoint.partition(":")[0]).is_file()
        assert deployment["name"] == DEPLOYMENT
        assert set(deployment["tags"]) == {"accord", *spec.tags}
        schedules = [
            {k: v for k, v in s.items() if k in ("cron", "interval", "timezone")}
            for s in deployment.get("schedules") or []
        ]
        expected = [
            {
                **{k: v for k, v in s.items() if k in ("cron", "interval")},
                **({"timezone": SECRETARIAT_TIMEZONE} if "timezone" in s else {}),
            }
            for s in spec.schedules
        ]
        assert schedules == expected, spec.flow
        assert [t["expect"] for t in deployment.get("triggers") or []] == [
            t["expect"] for t in spec.triggers
        ]
        single = {"limit": 1, "collision_strategy": "CANCEL_NEW"} if spec.single else None
        assert deployment.get("concurrency_limit") == single, spec.flow


def test_poll_is_scheduled_only_when_imap_is_configured() -> None:
    [yaml_poll] = [d for e, d in declared().items() if "poll_replies" in e]
    assert yaml_poll["schedules"][0]["active"] is False


@pytest.mark.parametrize("imap_host", [None, "imap.example.org"])
def test_served_deployments(imap_host: str | None) -> None:
    from flows.deployments import runner_deployments

    settings = load_settings(imap_host=imap_host, timezone="Europe/Madrid")
    served = {d.flow_name: d for d in runner_deployments(settings)}
    assert set(served) == {spec.flow_name for spec in SPECS}
    assert served["poll-replies"].schedules[0].active is bool(imap_host)
    assert served["sweep"].schedules[0].schedule.interval.total_seconds() == 300
    assert served["sweep"].concurrency_options.collision_strategy == "CANCEL_NEW"
    reminders = served["action-reminders"].schedules[0].schedule
    assert (reminders.cron, reminders.timezone) == ("0 8 * * *", "Europe/Madrid")
    [automation] = served["publish-statement"].triggers
    assert automation.expect == set(AUTO_PUBLISH["expect"])
    assert automation.match.root == AUTO_PUBLISH["match"]
    assert automation.parameters == {"statement_id": "{{ event.payload.statement_id }}"}
