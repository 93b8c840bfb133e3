"""Waiting on a condition with a deadline, instead of sleeping."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

T = TypeVar("T")
KEY_TRUST_SECONDS = 1.0
"""The gateway's default ``UCAP_GATEWAY_KEY_TRUST_SECONDS``."""


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float, interval: float = 0.1
) -> T:
    """Call ``probe`` until it returns something other than None or False."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout:g}s")
        await asyncio.sleep(interval)


def polled(
    probe: Callable[[], T], done: Callable[[T], bool], *, timeout: float, interval: float = 0.2
) -> T:
    """``probe()`` again until ``done`` holds of its result or ``timeout`` passes: the last
    result either way, for the caller's assertion to name."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(interval)


async def polled_async(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 0.2,
) -> T:
    """:func:`polled` for a coroutine."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


def answer_once(
    send: Callable[[], httpx.Response], wanted: Callable[[httpx.Response], bool], *, timeout: float
) -> httpx.Response:
    """``send()`` again until its answer is ``wanted``; the last answer either way.

    For what holds within a stated time rather than at once: a revoked key is
    refused by every gateway within its key trust time (1 s), say.
    """
    return polled(send, wanted, timeout=timeout, interval=0.1)
