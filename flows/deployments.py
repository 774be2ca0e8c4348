"""The deployments, one per flow: what `accord up` serves and what `prefect.yaml` declares.

`prefect.yaml` (for `prefect deploy` to a work pool) says the same in YAML; a test keeps the two
in step. Served deployments are built here rather than read from that file, so an installed
accord serves them without a checkout.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from accord.config import Settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Schedule

DEPLOYMENT = "accord"
SECRETARIAT_TIMEZONE = "Europe/Paris"  # prefect.yaml's; served ones use ACCORD_TIMEZONE

AUTO_PUBLISH = {
    "name": "publish-when-endorsed",
    "description": "Publish a statement as soon as its round endorses it, for groups configured "
    "with auto_publish (`accord groups configure NAME --auto-publish`).",
    "type": "event",
    "enabled": True,
    "match": {"prefect.resource.id": "accord.statement.*", "accord.auto-publish": "true"},
    "expect": ["accord.statement.endorsed"],
    "posture": "Reactive",
    "threshold": 1,
    "within": 0,
    "parameters": {"statement_id": "{{ event.payload.statement_id }}"},
}


@dataclass(frozen=True)
class Spec:
    flow: str  # module:function
    description: str
    tags: tuple[str, ...]
    schedules: tuple[dict[str, Any], ...] = ()
    triggers: tuple[dict[str, Any], ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    single: bool = False  # one run at a time; a run due while one is going is cancelled

    @property
    def flow_name(self) -> str:
        return self.flow.rpartition(":")[2].replace("_", "-")

    @property
    def entrypoint(self) -> str:
        module, _, function = self.flow.partition(":")
        return f"{module.replace('.', '/')}.py:{function}"


SPECS = (
    Spec("flows.reports:import_report", "Import a meeting report.", ("actions",)),
    Spec("flows.rounds:circulate_round", "Circulate a statement to a group.", ("rounds",)),
    Spec(
        "flows.replies:poll_replies",
        "Read members' replies from the IMAP mailbox (active when IMAP is configured).",
        ("rounds",),
        schedules=({"interval": 60, "active": "imap"},),
        single=True,
    ),
    Spec(
        "flows.sweep:sweep",
        "Deadlines, closes, reminders, action reminders, the outbox.",
        ("rounds", "actions"),
        schedules=({"interval": 300},),
        single=True,
    ),
    Spec(
        "flows.rounds:publish_statement",
        "Publish an endorsed statement.",
        ("rounds",),
        triggers=(AUTO_PUBLISH,),
    ),
    Spec(
        "flows.reports:action_reminders",
        "Remind responsible bodies of due and overdue actions; weekly digest.",
        ("actions",),
        schedules=({"cron": "0 8 * * *", "timezone": "secretariat"},),
    ),
    Spec(
        "flows.reports:followup_report",
        "Render the follow-up report, weekly.",
        ("actions",),
        schedules=({"cron": "0 7 * * 1", "timezone": "secretariat"},),
    ),
)


def runner_deployments(settings: Settings) -> list[RunnerDeployment]:
    """Every deployment, ready for `serve(...)`, with schedules in the secretariat's time zone."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.deployments.runner import EntrypointType

    single = ConcurrencyLimitConfig(limit=1, collision_strategy="CANCEL_NEW")

    deployments = []
    for spec in SPECS:
        module, _, name = spec.flow.partition(":")
        flow = getattr(importlib.import_module(module), name)
        deployments.append(
            flow.to_deployment(
                name=DEPLOYMENT,
                description=spec.description,
                tags=["accord", *spec.tags],
                parameters=spec.parameters,
                schedules=[schedule(s, settings) for s in spec.schedules],
                triggers=[trigger(t) for t in spec.triggers],
                concurrency_limit=single if spec.single else None,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


def schedule(spec: dict[str, Any], settings: Settings) -> Schedule:
    from prefect.schedules import Cron, Interval

    active = settings.imap_configured if spec.get("active") == "imap" else True
    if "cron" in spec:
        return Cron(spec["cron"], timezone=settings.timezone, active=active)
    return Interval(timedelta(seconds=spec["interval"]), active=active)


def trigger(spec: dict[str, Any]) -> Any:
    from prefect.events import DeploymentTriggerTypes
    from pydantic import TypeAdapter

    return TypeAdapter(DeploymentTriggerTypes).validate_python(dict(spec))
