"""The task lifecycle rules, without a database."""

import pytest

from services.catalog.models import (
    Task,
    TaskNotCancellable,
    TaskNotCompletable,
    TaskNotEditable,
    TaskNotOwned,
    TaskNotPublishable,
    TaskNotStartable,
)
from services.kernel.contracts.catalog import TaskClosed, TaskPublished, TaskUpdated
from tests.builders import a_task_published


def a_draft() -> Task:
    state = a_task_published().model_dump()
    state.update(status="draft", version=1)
    return Task(**state)


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


def test_the_whole_lifecycle_announces_each_step() -> None:
    task = a_draft()
    task.publish()
    assert isinstance(task.start(), TaskUpdated) and task.status == "in_progress"
    closed = task.complete()
    assert isinstance(closed, TaskClosed) and closed.status == "completed"
    with pytest.raises(TaskNotCancellable):
        task.cancel()


@pytest.mark.parametrize("status", ["draft", "in_progress", "completed", "cancelled"])
def test_only_open_or_filled_work_can_start(status: str) -> None:
    task = a_draft()
    task.status = status
    with pytest.raises(TaskNotStartable):
        task.start()
    assert task.version == 1


def test_only_work_in_progress_can_be_completed() -> None:
    task = a_draft()
    task.publish()
    with pytest.raises(TaskNotCompletable):
        task.complete()


def test_a_draft_is_edited_quietly_an_open_task_announces_and_later_ones_refuse() -> None:
    task = a_draft()
    assert task.update({"title": "New"}) is None and task.version == 2
    task.publish()
    event = task.update({"hours_per_week": 2})
    assert isinstance(event, TaskUpdated) and event.hours_per_week == 2
    assert task.update({"hours_per_week": 2}) is None
    task.start()
    with pytest.raises(TaskNotEditable):
        task.update({"title": "Late"})


def test_seats_fill_the_task_and_a_freed_seat_opens_it_again() -> None:
    task = a_draft()
    task.seats = 2
    task.publish()
    assert task.count_seats(1).status == "open"
    filled = task.count_seats(2)
    assert (filled.status, filled.seats_filled) == ("filled", 2)
    assert task.count_seats(2) is None
    assert task.count_seats(1).status == "open"
    task.count_seats(2)
    task.start()
    assert task.count_seats(1).status == "in_progress"


def test_a_draft_without_a_must_have_skill_cannot_be_published() -> None:
    task = a_draft()
    task.required_skills = [{"skill_id": "taskforce:python", "min_level": 2, "required": False}]
    with pytest.raises(TaskNotPublishable, match="must-have"):
        task.publish()
    assert task.status == "draft" and task.version == 1
