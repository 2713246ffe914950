"""A manager's day with tasks in a real browser (Chromium via Playwright, the app under
uvicorn, a real Temporal dev server and worker): take a task on, find it in progress,
complete it, find it done; nothing is undone by mistake. At 1280 and 390 px wide.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wendu.store.models import Task, TaskAction

from .test_browser import SHOTS, browser, db_url, served, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_manager_takes_a_task_on_finds_it_in_progress_and_completes_it(
    served, browser, factory  # noqa: F811 - the fixtures imported above
):
    # One run (the workflows of a firing are started once): the first task on a desktop
    # screen, the second on a phone, completed on its own page (where a WeCom card's link
    # lands).
    done = []
    for left, width, on_its_page in ((2, 1280, False), (1, 390, True)):
        done.append(await _take_on_and_complete(served, browser, factory, left, width,
                                                on_its_page))
    assert len(set(done)) == 2


async def _take_on_and_complete(base: str, browser, factory, left: int, width: int,  # noqa: F811
                                on_its_page: bool) -> str:
    page = await sign_in(browser, base, "m1")
    await page.set_viewport_size({"width": width, "height": 900})
    todo = page.locator("#todo li.task")
    assert await todo.count() == left  # A1's and A2's check-ins; C1's is m2's
    first = todo.first
    task_id = await first.get_attribute("data-task-id")
    title = await first.locator(".title").inner_text()

    await first.locator("button[data-action=acknowledge]").click()
    await page.locator(f'#todo li[data-task-id="{task_id}"]').wait_for(state="detached")
    await page.locator("#undo", has_text="You took on").wait_for()
    assert await page.locator("#tab-progress .count").inner_text() == "1"

    await page.click("#tab-progress")
    mine = page.locator(f'#todo li[data-task-id="{task_id}"]')
    assert await mine.locator(".badge.progress").inner_text() == "In progress"
    assert await mine.locator("button[data-action=acknowledge]").count() == 0
    await page.screenshot(path=SHOTS / f"tasks-in-progress-{width}.png", full_page=True)
    if on_its_page:
        await mine.locator(".title a").click()
        await page.wait_for_url(f"{base}/console/tasks/{task_id}")
        assert await page.locator("#task-status").inner_text() == "In progress"
        mine = page.locator(f'#todo li[data-task-id="{task_id}"]')
        await mine.locator("input[data-field=comment]").fill("Talked; moved the review to Friday")
        await mine.locator("button[data-action=complete]").click()
        await page.locator("#task-status", has_text="Completed").wait_for()
        assert await page.locator("#todo").count() == 0  # no buttons left on a finished task
        await page.goto(f"{base}/console/tasks?list=progress")
        return await _done(page, factory, task_id, title, width)
    await mine.locator("button[data-action=complete]").click()
    await mine.locator(".error", has_text="complete needs a comment").wait_for()
    await mine.locator("input[data-field=comment]").fill("Talked; moved the review to Friday")
    await mine.locator("button[data-action=complete]").click()
    await mine.wait_for(state="detached")
    return await _done(page, factory, task_id, title, width)


async def _done(page, factory, task_id: str, title: str, width: int) -> str:
    assert await page.locator("#todo-empty").inner_text() == "Nothing in progress"
    await page.locator("#undo", has_text=f"You completed: {title}").wait_for()

    await page.click("#tab-done")
    done = page.locator(f'#todo li[data-task-id="{task_id}"]')
    assert await done.locator(".outcome").inner_text() == (
        "Completed: Talked; moved the review to Friday")
    assert await done.locator("button").count() == 0
    # Nothing sideways on a phone: the lists fit the screen.
    assert await page.evaluate(
        "document.querySelector('#tasks').scrollWidth <= window.innerWidth")
    await page.screenshot(path=SHOTS / f"tasks-done-{width}.png", full_page=True)
    await page.close()

    with factory() as s:
        row = s.get(Task, task_id)
        log = s.scalars(select(TaskAction.action).where(TaskAction.task_id == task_id)
                        .order_by(TaskAction.id)).all()
    assert (row.status, row.outcome_comment) == ("completed", "Talked; moved the review to Friday")
    assert log == ["acknowledge", "complete"]  # no undo by mistake
    return task_id
