"""A whole data file through the gateway: cities, organisations, MoUs, U-CAPs, pilots, in
that order (each section refers to the ones before it: an MoU to its cities and
organisations, a U-CAP to its cities, a pilot to its cities, MoUs and U-CAP; a U-CAP's
timeline names pilots too, but nothing checks those)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from ucap_ops.datafile import DataFile
from ucap_ops.loading.cities import load_city
from ucap_ops.loading.gateway import Gateway, KeyChoice
from ucap_ops.loading.mous import load_mou
from ucap_ops.loading.organisations import load_organisation
from ucap_ops.loading.outcome import Summary
from ucap_ops.loading.pilots import load_pilot
from ucap_ops.loading.progress import Progress
from ucap_ops.loading.run import Run
from ucap_ops.loading.ucaps import load_ucap

DEFAULT_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class LoadPlan:
    data: DataFile
    gateway_url: str
    keys: KeyChoice
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    """How long one item may wait for another service to learn of what it refers to"""


def count_items(data: DataFile) -> int:
    """How many outcomes a load of ``data`` reports: one per entry and per step in it."""
    return (
        len(data.cities)
        + len(data.organisations)
        + sum(1 + len(mou.signatures) for mou in data.mous)
        + sum(
            1
            + len(p.status_changes)
            + len(p.milestones)
            + len(p.funding)
            + len(p.indicators)
            + len(p.progress)
            for p in data.pilots
        )
        + sum(1 + len(u.activities) + len(u.deliveries) for u in data.ucaps)
    )


def defined_ids(data: DataFile) -> set[str]:
    """The cities, organisations, MoUs and U-CAPs the file itself creates: worth waiting for
    when unknown."""
    return (
        {city.id for city in data.cities}
        | {organisation.organisation_id for organisation in data.organisations}
        | {mou.id for mou in data.mous}
        | {ucap.id for ucap in data.ucaps}
    )


def first_listing(data: DataFile) -> str:
    """The list of the first section the file fills: readable by any key of the load."""
    sections = {
        "/cities": data.cities,
        "/mous": data.mous,
        "/pilots": data.pilots,
        "/ucaps": data.ucaps,
    }
    return next((path for path, entries in sections.items() if entries), "/cities")


@contextmanager
def _client(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client


def load(
    plan: LoadPlan, progress: Progress, *, on_ready: Callable[[bool], None] | None = None
) -> Summary:
    """Load ``plan.data``; raises :class:`LoadError` when it cannot go on at all.

    ``on_ready`` hears, once the keys are checked, whether the writes are dated."""
    with _client(plan.gateway_url) as client:
        gateway = Gateway(
            client,
            plan.keys,
            defined=defined_ids(plan.data),
            wait_seconds=plan.wait_seconds,
            progress=progress,
        )
        gateway.check_keys(first_listing(plan.data))
        if on_ready is not None:
            on_ready(gateway.dated)
        run = Run(gateway, progress)
        for city in plan.data.cities:
            load_city(run, city)
        for organisation in plan.data.organisations:
            load_organisation(run, organisation)
        for mou in plan.data.mous:
            load_mou(run, mou)
        for ucap in plan.data.ucaps:
            load_ucap(run, ucap)
        for pilot in plan.data.pilots:
            load_pilot(run, pilot)
        return run.summary
