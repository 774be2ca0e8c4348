"""The console's long work as background jobs (services/jobs.py): a members file's import and a
round's start, each the same service the CLI calls, told to report its progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from accord.services.context import Context
from accord.services.jobs import JobRunner, Outcome, Progress
from accord.services.member_pages import MemberUpload, import_member_upload
from accord.services.rounds import start_round
from statemachines.errors import Message

MEMBERS_IMPORT = "members-import"
ROUND_START = "round-start"


def queue_member_import(
    ctx: Context, runner: JobRunner, upload: MemberUpload, *, origin: str, result: str
) -> int:
    """Import a checked members file in the background; the job links to `result` when done."""

    def work(progress: Progress) -> Outcome:
        done = import_member_upload(ctx, upload, progress)
        return Outcome(done.summary(), result)

    title = upload.source  # the page says "Import of <file>" in the user's language
    return runner.submit(
        ctx, kind=MEMBERS_IMPORT, title=title, origin=origin, work=work, total=len(upload.rows)
    )


def queue_round_start(
    ctx: Context,
    runner: JobRunner,
    *,
    statement_id: int,
    group: str,
    rule: str,
    deadline: datetime,
    mode: str,
    origin: str,
    round_link: Callable[[int], str],
) -> int:
    """Start a round in the background; the job links to its page (`round_link(id)`) when done.
    A refusal (the group does not accept the kind, a past deadline) fails the job with its
    reason, and nothing is started."""

    def work(progress: Progress) -> Outcome:
        started = start_round(
            ctx,
            statement_id=statement_id,
            group=group,
            rule=rule,
            deadline=deadline,
            mode=mode,
            progress=progress,
        )
        asked = len(started.recipients)
        started_line = Message(
            "round {id} started: {asked} members asked", id=started.id, asked=asked
        )
        return Outcome(started_line, round_link(started.id))

    title = group  # the page says "A round with <group>" in the user's language
    return runner.submit(ctx, kind=ROUND_START, title=title, origin=origin, work=work)
