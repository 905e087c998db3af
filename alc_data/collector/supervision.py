"""Supervised background tasks: a loop that raises is restarted with backoff, or, when it keeps
failing, the collector stops loudly, never silently.

Each failure is counted (``failures``), logged with its traceback the first time a task fails
with a given exception type (then once every 100 failures), and the task is started again
after a doubling wait (``initial`` to ``maximum`` seconds). A task that fails ``give_up_after``
times in a row, each time within ``healthy_after`` seconds of its restart, is declared
failed: ``on_fatal`` is called with the error (the collector then stops, and the command
exits non-zero). Time comes from an injectable clock, so tests decide it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Supervisor", "TaskState"]

log = logging.getLogger(__name__)


@dataclass
class TaskState:
    """What a supervised task is doing, and what went wrong with it."""

    name: str
    state: str = "running"  # running | backing off | failed | done | stopped
    failures: int = 0
    restarts: int = 0
    consecutive: int = 0
    last_error: str | None = None
    errors_by_type: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return {
            "state": self.state,
            "failures": self.failures,
            "restarts": self.restarts,
            "last_error": self.last_error,
        }


class Supervisor:
    """Runs named loops and restarts them when they raise (see the module doc)."""

    def __init__(
        self,
        *,
        on_fatal: Callable[[str, BaseException], None],
        initial: float = 0.1,
        maximum: float = 30.0,
        give_up_after: int = 5,
        healthy_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.on_fatal = on_fatal
        self.initial = initial
        self.maximum = maximum
        self.give_up_after = give_up_after
        self.healthy_after = healthy_after
        self.clock = clock
        self.sleep = sleep
        self.states: dict[str, TaskState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def spawn(self, name: str, loop: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``loop()`` under supervision as the task ``name``."""
        self.states[name] = TaskState(name)
        task = asyncio.get_running_loop().create_task(self._supervise(name, loop), name=name)
        self._tasks[name] = task
        return task

    @property
    def failures(self) -> int:
        """Failures of every task so far."""
        return sum(s.failures for s in self.states.values())

    def errors_by_kind(self) -> dict[str, int]:
        """``{"task:<name>:<ExceptionType>": count}`` for every failure so far."""
        return {
            f"task:{state.name}:{kind}": n
            for state in self.states.values()
            for kind, n in state.errors_by_type.items()
        }

    async def _supervise(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        state = self.states[name]
        delay = self.initial
        while True:
            started = self.clock()
            state.state = "running"
            try:
                await loop()
            except asyncio.CancelledError:
                state.state = "stopped"
                raise
            except Exception as exc:
                if self.clock() - started >= self.healthy_after:
                    state.consecutive, delay = 0, self.initial
                self._record(state, exc)
                if state.consecutive >= self.give_up_after:
                    state.state = "failed"
                    log.error("task %s failed %d times in a row; giving up: %r", name,
                              state.consecutive, exc)  # fmt: skip
                    self.on_fatal(name, exc)
                    return
                state.state = "backing off"
                await self.sleep(delay)
                delay = min(delay * 2, self.maximum)
                state.restarts += 1
                continue
            state.state = "done"
            return

    def _record(self, state: TaskState, exc: BaseException) -> None:
        kind = type(exc).__name__
        state.failures += 1
        state.consecutive += 1
        state.errors_by_type[kind] = state.errors_by_type.get(kind, 0) + 1
        state.last_error = f"{state.name}: {kind}: {exc}"
        seen = state.errors_by_type[kind]
        if seen == 1 or seen % 100 == 0:
            log.error("task %s raised (%d so far; restarting): %s", state.name, seen,
                      state.last_error, exc_info=exc)  # fmt: skip

    async def stop(self) -> None:
        """Cancel every task and wait for them."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
