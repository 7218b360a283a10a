"""Approval escalation: an acceptance the line manager has not approved by its deadline is
approved by the system, so silence cannot keep a worker from work they chose."""

import asyncio
import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.outbox import add_event
from services.kernel.runtime import Runtime
from services.matching.assignments import SOURCE, now
from services.matching.assignments_models import Assignment

log = logging.getLogger("taskforce.matching.escalation")


async def escalate_overdue_approvals(session: AsyncSession, at: datetime, batch: int = 200) -> int:
    """Approve (by `escalation`) accepted assignments past their approval deadline; returns
    how many. Rows another process holds are left for its next round."""
    overdue = await session.scalars(
        sa.select(Assignment)
        .where(Assignment.status == "accepted", Assignment.approval_due_at <= at)
        .order_by(Assignment.approval_due_at, Assignment.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for assignment in overdue.all():
        add_event(session, assignment.approve("escalation", at), SOURCE)
        count += 1
    await session.commit()
    return count


async def run_approval_escalation(rt: Runtime) -> None:
    """The worker's loop: escalate overdue approvals every `approval_check_interval_s`; a
    failed round (the database away) is logged and tried again at the next."""
    interval = float(getattr(rt.settings, "approval_check_interval_s", 30.0))
    while True:
        try:
            async with rt.db.sessions() as session:
                count = await escalate_overdue_approvals(session, now())
            if count:
                log.info("approved %d assignment(s) past their approval deadline", count)
        except Exception:
            log.exception("approval escalation failed; trying again in %g s", interval)
        await asyncio.sleep(interval)
