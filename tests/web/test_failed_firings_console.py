"""Failed firings in front of HR: the rule page lists a rule's recent failures with their
reason, the rule list and the dashboard count them, in Chinese and English."""

from __future__ import annotations

import pytest

from wendu.store.models import Firing

from .conftest import login

pytestmark = pytest.mark.asyncio(loop_scope="session")

REASON = "ExpressionError: when[0] `''.__class__`: unsafe <b>access</b>"


def failed(factory, n: int = 2) -> None:
    with factory.begin() as s:
        for i in range(n):
            s.add(Firing(rule_id="overtime-care", dedupe_key=f"A1/2026-W{48 + i}",
                         rule_digest="d", workflow_id=f"rule/overtime-care/A1/2026-W{48 + i}",
                         employee_id="A1", status="failed", error=REASON, attempts=3,
                         context={}))
        s.add(Firing(rule_id="overtime-care", dedupe_key="A2/2026-W49", rule_digest="d",
                     workflow_id="rule/overtime-care/A2/2026-W49", employee_id="A2",
                     status="started", context={}))


async def test_the_rule_page_lists_its_failed_firings_with_the_reason(console, factory):
    failed(factory)
    await login(console, "hr")
    console.cookies.set("wendu_lang", "en")
    page = await console.get("/console/rules/overtime-care")
    assert page.status_code == 200
    section = page.text.split('id="failed"', 1)[1].split("</section>", 1)[0]
    assert "Recent failed firings" in section and "heard nothing" in section
    assert section.count("data-firing-id=") == 2  # the started one is not listed
    assert "A1/2026-W49" in section and "A2/2026-W49" not in section
    # The reason is shown as text, escaped.
    assert "unsafe &lt;b&gt;access&lt;/b&gt;" in section and "<b>access" not in section

    console.cookies.set("wendu_lang", "zh-CN")
    zh = await console.get("/console/rules/overtime-care")
    assert "最近未能执行的触发" in zh.text and "原因" in zh.text

    rules = await console.get("/console/rules")
    row = rules.text.split('data-rule-id="overtime-care"', 1)[1].split("</tr>", 1)[0]
    assert 'href="/console/rules/overtime-care#failed">2</a>' in row
    assert "近7天失败" in rules.text


async def test_the_dashboard_counts_failed_firings(console, factory):
    await login(console, "hr")
    console.cookies.set("wendu_lang", "en")
    none = await console.get("/console/dashboard")
    figure = none.text.split('id="fig-failed-firings"', 1)[1].split("</div>", 1)[0]
    assert "Failed firings (7 days)" in figure and "<strong>0</strong>" in figure
    failed(factory, 3)
    page = await console.get("/console/dashboard")
    figure = page.text.split('id="fig-failed-firings"', 1)[1].split("</div>", 1)[0]
    assert ">3</a>" in figure
    console.cookies.set("wendu_lang", "zh-CN")
    zh = await console.get("/console/dashboard")
    assert "未能执行的触发（7天）" in zh.text
    data = (await console.get("/console/api/dashboard")).json()
    assert data["failed_firings"] == 3


async def test_a_rule_without_failures_says_so(console):
    await login(console, "bp")
    console.cookies.set("wendu_lang", "en")
    page = await console.get("/console/rules/overtime-care")
    assert 'id="no-failed">No failed firings<' in page.text
