"""The task lifecycle rules, without a database."""

import pytest

from services.catalog.models import Task, TaskNotCancellable, TaskNotOwned, TaskNotPublishable
from services.kernel.contracts.catalog import TaskClosed, TaskPublished
from tests.builders import a_task_published


def a_draft() -> Task:
    state = a_task_published().model_dump()
    state.update(status="draft", version=1)
    return Task(**state, description="")


def test_publishing_a_draft_opens_it_and_announces_the_new_version() -> None:
    task = a_draft()
    event = task.publish()
    assert isinstance(event, TaskPublished)
    assert (task.status, task.version, event.version, event.status) == ("open", 2, 2, "open")


@pytest.mark.parametrize("status", ["open", "filled", "in_progress", "completed", "cancelled"])
def test_only_a_draft_can_be_published(status: str) -> None:
    task = a_draft()
    task.status = status
    with pytest.raises(TaskNotPublishable):
        task.publish()
    assert task.status == status and task.version == 1


def test_cancelling_an_announced_task_closes_it_and_a_draft_quietly() -> None:
    live = a_draft()
    live.publish()
    assert isinstance(live.cancel(), TaskClosed)
    draft = a_draft()
    assert draft.cancel() is None and draft.status == "cancelled"
    with pytest.raises(TaskNotCancellable):
        live.cancel()


def test_a_manager_who_does_not_own_the_task_may_not_move_it() -> None:
    task = a_draft()
    task.ensure_owned_by(task.owner_id, is_admin=False)
    task.ensure_owned_by("anyone", is_admin=True)
    with pytest.raises(TaskNotOwned):
        task.ensure_owned_by("anyone", is_admin=False)
