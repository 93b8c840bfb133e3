"""A handler that fails is tried again, a bounded number of times, with full-jitter waits."""

import logging
from dataclasses import dataclass

from tenacity import RetryCallState

from ucap_shared.backoff import bounded_retries
from ucap_shared.dispatch import Call, Result, run_call

log = logging.getLogger("ucap_shared.consumer")


@dataclass(frozen=True)
class RetryPolicy:
    """A handler's tries before its record is dead-lettered, with full-jitter waits between."""

    attempts: int = 3
    first_backoff_seconds: float = 0.2
    most_backoff_seconds: float = 5.0


async def call_with_retries(call: Call, *, group: str, policy: RetryPolicy) -> Result:
    """The handler's result; once its tries are spent, its last error is raised."""

    def retrying(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "handler failed; retrying",
            extra={
                "type": call.envelope.type,
                "attempt": state.attempt_number,
                "error": repr(error),
            },
        )

    retries = bounded_retries(
        attempts=policy.attempts,
        first=policy.first_backoff_seconds,
        most=policy.most_backoff_seconds,
        before_sleep=retrying,
    )
    async for attempt in retries:
        with attempt:
            return await run_call(call, group=group)
    raise AssertionError("unreachable: the last failed try raises")
