"""What each task action requires: the refusals of TaskWorkflow's update validators.

Pure functions of the workflow's state, so a refused action is decided before anything is
written to history. Each refusal is typed; the API maps the type to an HTTP status
(api/tasks.py `_REFUSALS`).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from wendu.workflows.io import SnoozeRequest, TaskAction, TaskView

NEEDS_COMMENT = {"complete": "a comment", "dismiss": "a reason", "delegate": "a comment",
                 "reassign": "a comment"}
HAND_OVER = ("delegate", "reassign")
HR_ACTIONS = ("acknowledge", "dismiss")


def refuse_unless_open(view: TaskView | None, finished: bool) -> TaskView:
    """The refusals every action shares; the view when the task takes actions."""
    if view is None:
        raise ApplicationError(
            "the task is being created; try again in a moment", type="TaskNotReady"
        )
    if finished:
        raise ApplicationError(f"task {view.id} is already {view.status}", type="TaskFinished")
    return view


def check_act(view: TaskView, assignees: list[str], in_progress: bool,
              action: TaskAction) -> None:
    if action.action == "delegate" and action.actor_id != view.assignee_id:
        raise ApplicationError(
            f"only {view.assignee_id}, the assignee, delegates task {view.id}",
            type="NotAssignee")
    # Who may reassign is the API's to say (HR in the console), as is HR acknowledging or
    # dismissing a task (`by_hr`); anyone else must hold it.
    hr_may = action.by_hr and action.action in HR_ACTIONS
    if action.action != "reassign" and not hr_may and action.actor_id not in assignees:
        raise ApplicationError(f"{action.actor_id} is not assigned task {view.id}",
                               type="NotAssignee")
    needed = NEEDS_COMMENT.get(action.action)
    if needed and not (action.comment or "").strip():
        raise ApplicationError(f"{action.action} needs {needed}", type="InvalidAction")
    if action.action in HAND_OVER:
        if not action.to_id:
            raise ApplicationError(f"{action.action} needs to_id, who takes the task",
                                   type="InvalidAction")
        if action.to_id == view.assignee_id:
            raise ApplicationError(f"to_id: task {view.id} is {action.to_id}'s already",
                                   type="InvalidAction")
    if action.action == "acknowledge" and in_progress:
        raise ApplicationError(f"task {view.id} is in progress already", type="InvalidAction")


def check_undo(view: TaskView | None, last_actor: str | None, last_action: str,
               open_until: datetime | None, now: datetime, actor_id: str) -> None:
    if view is None:
        raise ApplicationError("the task is being created", type="TaskNotReady")
    if last_actor is None or open_until is None or now >= open_until:
        raise ApplicationError(f"task {view.id}: nothing to undo (an action can be undone "
                               "for a minute)", type="InvalidAction")
    if last_actor != actor_id:
        raise ApplicationError(f"only {last_actor} undoes their {last_action}",
                               type="NotAssignee")


def check_snooze(view: TaskView, request: SnoozeRequest, now: datetime) -> None:
    if request.actor_id != view.assignee_id:
        raise ApplicationError(
            f"only {view.assignee_id}, the assignee, snoozes task {view.id}",
            type="NotAssignee",
        )
    try:
        until = datetime.fromisoformat(request.until)
    except ValueError:
        raise ApplicationError(
            f"until: {request.until!r} is not an ISO date and time", type="InvalidAction"
        ) from None
    if until.tzinfo is None:
        raise ApplicationError(
            f"until: {request.until!r} needs a time zone offset", type="InvalidAction"
        )
    if until <= now:
        raise ApplicationError(f"until: {request.until} has passed", type="InvalidAction")
