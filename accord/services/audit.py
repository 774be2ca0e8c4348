"""Verify the decision record."""

from __future__ import annotations

from accord.services.context import Context
from storage.audit import Verification


def verify_audit(ctx: Context) -> Verification:
    with ctx.uow(readonly=True) as uow:
        return uow.audit.verify()
