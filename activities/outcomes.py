"""RECORD_OUTCOME, REGISTER_WAIT, CLEAR_WAIT and SCORE: what a rule leaves in the store.

All keyed by (workflow id, step id), so a retried attempt finds the first one's row.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

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
        row = Outcome(
            rule_id=inp.rule_id,
            workflow_id=inp.workflow_id,
            step_id=inp.step_id,
            employee_id=inp.employee_id,
            metric=inp.metric,
            value=inp.value,
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
            # A retry returns what was recorded, even if a newer model was deployed meanwhile.
            return ScoreResult(
                value=stored.value,
                label=scorer.label(stored.value),
                factors=list(stored.factors or []),
                model_version=stored.model_version,
            )
        try:
            result = ScoreResult.model_validate(scorer.score(inp.context))
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
            factors=result.factors,
        )
        if not _insert_once(self.session_factory, row):
            return self._score(inp)
        return result

    def _stored(self, inp: ScoreInput) -> ScoreRecord | None:
        with self.session_factory() as session:
            return session.scalar(
                select(ScoreRecord).where(
                    ScoreRecord.workflow_id == inp.workflow_id, ScoreRecord.step_id == inp.step_id
                )
            )
