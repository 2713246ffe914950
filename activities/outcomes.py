"""RECORD_OUTCOME, REGISTER_WAIT, CLEAR_WAIT and SCORE: what a rule leaves in the store.

All keyed by (workflow id, step id), so a retried attempt finds the first one's row.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wendu.activities.score_inputs import (
    FEEDBACK_DAYS_ARG,
    latest_profile,
    recent_feedback,
    store_score,
    with_team_overtime,
    without_quotes,
)
from wendu.rules.expressions import evaluate
from wendu.scorers.registry import ScorerRegistry
from wendu.store.db import transaction
from wendu.store.models import Outcome, ScoreRecord, Wait
from wendu.workflows.io import (
    CLEAR_WAIT,
    RECORD_OUTCOME,
    REGISTER_WAIT,
    SCORE,
    RecordInput,
    ScoreInput,
    ScoreResult,
    WaitRegistration,
)


def _insert_once(factory: sessionmaker[Session], row: object) -> bool:
    """Inserts the row unless its unique key exists; True if this call inserted it."""
    try:
        with transaction(factory) as session:
            session.add(row)
        return True
    except IntegrityError:
        return False


class OutcomeActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    @activity.defn(name=RECORD_OUTCOME)
    async def record_outcome(self, inp: RecordInput) -> bool:
        """True when stored now, False when an earlier attempt already stored it."""
        value = inp.value if inp.expression is None else _number(inp)
        row = Outcome(
            rule_id=inp.rule_id,
            workflow_id=inp.workflow_id,
            step_id=inp.step_id,
            employee_id=inp.employee_id,
            metric=inp.metric,
            value=value,
        )
        return await asyncio.to_thread(_insert_once, self.session_factory, row)

    @activity.defn(name=REGISTER_WAIT)
    async def register_wait(self, inp: WaitRegistration) -> None:
        row = Wait(
            workflow_id=inp.workflow_id,
            step_id=inp.step_id,
            event_type=inp.event_type,
            employee_id=inp.employee_id,
        )
        await asyncio.to_thread(_insert_once, self.session_factory, row)

    @activity.defn(name=CLEAR_WAIT)
    async def clear_wait(self, inp: WaitRegistration) -> None:
        await asyncio.to_thread(self._clear, inp)

    def _clear(self, inp: WaitRegistration) -> None:
        with transaction(self.session_factory) as session:
            session.execute(
                delete(Wait).where(Wait.workflow_id == inp.workflow_id, Wait.step_id == inp.step_id)
            )


class ScoreActivities:
    def __init__(self, session_factory: sessionmaker[Session], scorers: ScorerRegistry) -> None:
        self.session_factory = session_factory
        self.scorers = scorers

    @activity.defn(name=SCORE)
    async def score(self, inp: ScoreInput) -> ScoreResult:
        return await asyncio.to_thread(self._score, inp)

    def _score(self, inp: ScoreInput) -> ScoreResult:
        scorer = self.scorers.get(inp.scorer)
        stored = self._stored(inp)
        if stored is not None:
            # A retry returns what was recorded, even if a newer model was deployed meanwhile;
            # the label too, as the scorer gave it (its thresholds may have changed since, and
            # a text scorer's label is a class, not a function of the value). Rows stored
            # before labels were kept fall back to the scorer's current label for the value.
            result = ScoreResult(
                value=stored.value,
                label=stored.label if stored.label is not None else scorer.label(stored.value),
                factors=list(stored.factors or []),
                model_version=stored.model_version,
            )
            if inp.employee_id:
                # The first attempt may have failed between recording the score and putting
                # it in the profile; storing it again is idempotent.
                store_score(self.session_factory, inp.employee_id, inp.scorer,
                            result.model_dump(mode="json"))
            return result
        try:
            context, quoted = self._context(inp, scorer)
            if quoted == []:
                # Nothing written in the window: no mood to read, and nothing to guess from.
                raw = {"value": 0.0, "label": "no_feedback", "factors": [],
                       "model_version": scorer.model_version}
            else:
                raw = scorer.score(context)
            if quoted:
                raw = {**raw, "factors": without_quotes(raw.get("factors") or [], quoted)}
            result = ScoreResult.model_validate(raw)
        except (ValueError, TypeError, KeyError) as err:
            raise ApplicationError(
                f"scorer {inp.scorer!r} failed: {err}", type="ScorerError", non_retryable=True
            ) from err
        row = ScoreRecord(
            workflow_id=inp.workflow_id,
            step_id=inp.step_id,
            employee_id=inp.employee_id,
            scorer=inp.scorer,
            model_version=result.model_version,
            value=result.value,
            label=result.label,
            factors=result.factors,
        )
        if not _insert_once(self.session_factory, row):
            return self._score(inp)  # a concurrent attempt recorded first: its score stands
        if inp.employee_id:
            store_score(self.session_factory, inp.employee_id, inp.scorer,
                        result.model_dump(mode="json"))
        return result

    def _context(self, inp: ScoreInput, scorer: Any) -> tuple[dict[str, Any], list[str] | None]:
        """The scorer's context, and the feedback texts it reads when `with:` asks for them."""
        context = {**inp.context, "args": inp.args}
        if inp.employee_id and getattr(scorer, "reads_latest_profile", False):
            # Sent long after the firing (a check-in at day 60): the profile of now.
            stored = latest_profile(self.session_factory, inp.employee_id)
            if stored:
                context["profile"] = {**(context.get("profile") or {}), **stored}
        if inp.employee_id and "overtime_vs_team" in getattr(scorer, "features", ()):
            context = with_team_overtime(self.session_factory, inp.employee_id, context)
        days = inp.args.get(FEEDBACK_DAYS_ARG)
        if days is None or not inp.employee_id:
            return context, None
        as_of = (context.get("profile") or {}).get("last_event_at")
        texts = recent_feedback(self.session_factory, inp.employee_id, float(days), as_of)
        event = {**(context.get("event") or {}), "text": None}
        return {**context, "event": event, "text": "\n".join(texts)}, texts

    def _stored(self, inp: ScoreInput) -> ScoreRecord | None:
        with self.session_factory() as session:
            return session.scalar(
                select(ScoreRecord).where(
                    ScoreRecord.workflow_id == inp.workflow_id, ScoreRecord.step_id == inp.step_id
                )
            )


def _number(inp: RecordInput) -> float:
    """The value of a record step's expression; a rule error (never retried) otherwise."""
    assert inp.expression is not None
    try:
        raw = evaluate(inp.expression, inp.context or {})
    except Exception as exc:  # noqa: BLE001 - the rule's mistake, said where it is written
        raise ApplicationError(f"{inp.at}: {exc}", type="RuleError", non_retryable=True) from exc
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ApplicationError(f"{inp.at}: record {inp.metric}: {raw!r} is not a number",
                               type="RuleError", non_retryable=True) from None
