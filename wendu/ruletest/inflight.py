"""Activities running on a rule test's worker, local ones included.

A local activity leaves no trace in a workflow's description while it runs (no pending
activity, and the history grows only when its workflow task completes), so a world that judged
"at rest" by descriptions alone could look while a rule was between two of its messages. The
worker counts them instead.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class InFlight(Interceptor):
    """How many activities of this worker are running right now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0

    @property
    def running(self) -> int:
        return self._running

    def _add(self, n: int) -> None:
        with self._lock:  # sync activities run in the worker's threads
            self._running += n

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counted(next, self)


class _Counted(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: InFlight) -> None:
        super().__init__(next)
        self._owner = owner

    def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self._owner._add(1)
        try:
            result = self.next.execute_activity(input)
        except BaseException:
            self._owner._add(-1)
            raise
        if not inspect.isawaitable(result):
            self._owner._add(-1)
            return result

        async def finish() -> Any:
            try:
                return await result
            finally:
                self._owner._add(-1)

        return finish()
