"""The scale run's writes besides progress updates, and what the views must say of them.

- ``draft_mous``: MoUs between the lead city and each counterpart, for them to sign.
- ``SignatureWriter``: the lead and one counterpart each signing those MoUs with its own
  city key, one signature at a time; a signature is recorded once per (MoU, city), so a
  409 "has already signed" answers a retry whose first try went through.
- ``ActivityWriter``: the lead city logging activities on its U-CAP, all on that one
  aggregate; the activity id is the write's key, so a 409 "logged already" answers a
  retry whose first try went through, and a 409 concurrent change is tried again.
- ``read_programme_views``, ``programme_problems``: each acknowledged signature and
  activity in every view that shows it exactly once, in the order acknowledged.
"""

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.fault_run import Recorded, RetriedWrites, created, ids_problems


async def draft_mous(
    admin: httpx.AsyncClient, lead: str, counterparts: list[str], per_counterpart: int
) -> dict[str, list[str]]:
    """MoU ids by counterpart, drafted through the gateway with an admin key."""
    drafted = {
        city: [f"{lead}-{city}-mou-{k}" for k in range(1, per_counterpart + 1)]
        for city in counterparts
    }
    await asyncio.gather(
        *(
            created(
                admin,
                "/mous",
                {
                    "id": mou_id,
                    "title": f"Scale run MoU {mou_id}",
                    "subject": "Signed under kill -9",
                    "parties": [{"city_id": lead}, {"city_id": city}],
                },
                timeout=90.0,
            )
            for city, mou_ids in drafted.items()
            for mou_id in mou_ids
        )
    )
    return drafted


def _refusal(response: httpx.Response) -> str:
    """The error kind of a JSON error body ("conflict", "concurrent_change" …), or ""."""
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


@dataclass
class SignatureWriter(RetriedWrites):
    """The lead and one counterpart signing the MoUs between them: per MoU both parties,
    each with its own key, taking turns at signing first."""

    lead_city_id: str
    counterpart_id: str
    mou_ids: list[str]
    headers: dict[str, dict[str, str]]
    """Auth headers by city id."""
    signed_on: str
    plan: list[tuple[str, str]] = field(init=False)
    """(MoU id, city id) of the n-th signature at ``n - 1``."""

    def __post_init__(self) -> None:
        pair = (self.counterpart_id, self.lead_city_id)
        self.plan = [
            (mou_id, city)
            for k, mou_id in enumerate(self.mou_ids)
            for city in (pair if k % 2 == 0 else pair[::-1])
        ]

    @property
    def label(self) -> str:
        return f"MoU signatures with {self.counterpart_id}"

    def key(self, n: int) -> str:
        mou_id, city = self.plan[n - 1]
        return f"{mou_id}/{city}"

    def has(self, n: int) -> bool:
        return n <= len(self.plan)

    async def attempt(self, client: httpx.AsyncClient, n: int) -> Recorded | str:
        mou_id, city = self.plan[n - 1]
        response = await client.post(
            f"/mous/{mou_id}/signatures",
            json={"signed_on": self.signed_on, "place": "Scale run"},
            headers=self.headers[city],
        )
        if response.is_success:
            signers = [s["city_id"] for s in response.json()["signatures"]]
            return Recorded(self.key(n)) if city in signers else "signature not in the answer"
        if response.status_code == 409 and _refusal(response) == "conflict":
            return Recorded(self.key(n), replayed=True)
        return f"HTTP {response.status_code}"

    def acknowledged_by_mou(self) -> dict[str, list[str]]:
        """Signing city ids per MoU, in the order acknowledged."""
        signed: dict[str, list[str]] = {mou_id: [] for mou_id in self.mou_ids}
        for ack in self.acknowledged:
            mou_id, city = ack.key.rsplit("/", 1)
            signed[mou_id].append(city)
        return signed

    def unresolved_by_mou(self) -> dict[str, set[str]]:
        maybe: dict[str, set[str]] = defaultdict(set)
        for key in self.unresolved:
            mou_id, city = key.rsplit("/", 1)
            maybe[mou_id].add(city)
        return maybe


@dataclass
class ActivityWriter(RetriedWrites):
    """The lead city's system logging activities on its U-CAP, one at a time."""

    city_id: str
    ucap_id: str
    headers: dict[str, str]
    run_id: str
    date: str

    @property
    def label(self) -> str:
        return f"{self.city_id} activities"

    def key(self, n: int) -> str:
        # Numbered so that the timeline (by date, then id) lists them in the order written.
        return f"{self.run_id}-activity-{n:05d}"

    async def attempt(self, client: httpx.AsyncClient, n: int) -> Recorded | str:
        body = {
            "activity_id": self.key(n),
            "date": self.date,
            "kind": "meeting",
            "ordinal": n,
            "title": f"Scale run meeting {n}",
            "city_ids": [self.city_id],
        }
        path = f"/ucaps/{self.ucap_id}/activities"
        response = await client.post(path, json=body, headers=self.headers)
        if response.is_success:
            return Recorded(self.key(n))
        refusal = _refusal(response)
        if response.status_code == 409 and refusal == "conflict":
            return Recorded(self.key(n), replayed=True)
        return f"HTTP {response.status_code}" + (f" {refusal}" if refusal else "")


# --- the views ----------------------------------------------------------------


@dataclass
class ProgrammeViews:
    """What each view says of the MoUs' signatures and the U-CAP's activities; None:
    that view did not answer."""

    mous_own: dict[str, list[str] | None] = field(default_factory=dict)
    """Signing city ids per MoU in ``GET /mous/{id}`` (the mous service's own view)."""
    mous_listed: dict[str, list[str]] | None = None
    """Signing city ids per MoU in the compiled status's details (``GET /mous?city=``)."""
    mous_reporting: dict[str, list[str]] | None = None
    """Signing city ids per MoU in reporting's U-CAP status (under its counterpart)."""
    reporting_signed: set[str] = field(default_factory=set)
    """The MoUs reporting's U-CAP status says all parties signed (``signed_on`` set)."""
    activities_own: list[str] | None = None
    """Activity ids in ``GET /ucaps/{id}`` (reporting's U-CAP)."""
    activities_status: list[str] | None = None
    """Activity ids in reporting's U-CAP status (its ``ucap``)."""
    logged: list[str] | None = None
    """Activity ids of the U-CAP's history's ``activity_logged`` events, in sequence order."""


async def _json(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    try:
        answer = await client.get(path, params=params)
    except httpx.TransportError:
        return None
    return answer.json() if answer.status_code == 200 else None


async def read_programme_views(
    client: httpx.AsyncClient, ucap_id: str, mou_ids: list[str], *, history: bool = False
) -> ProgrammeViews:
    views = ProgrammeViews()

    async def own(mou_id: str) -> None:
        mou = await _json(client, f"/mous/{mou_id}")
        views.mous_own[mou_id] = [s["city_id"] for s in mou["signatures"]] if mou else None

    async def status() -> None:
        compiled = await _json(client, f"/ucaps/{ucap_id}/status", format="json")
        if compiled is None:
            return
        if compiled["parts"].get("mous", {}).get("available"):
            views.mous_listed = {
                mou_id: [s["city_id"] for s in mou["signatures"]]
                for mou_id, mou in compiled["details"]["mous"].items()
            }
        report = compiled["status"]
        views.mous_reporting = {}
        for counterpart in report["counterparts"]:
            for mou in counterpart["mous"]:
                signers = [s["city_id"] for s in mou["signatures"]]
                views.mous_reporting.setdefault(mou["mou_id"], []).extend(signers)
                if mou["signed_on"] is not None:
                    views.reporting_signed.add(mou["mou_id"])
        views.activities_status = [a["activity_id"] for a in report["ucap"]["activities"]]

    async def ucap() -> None:
        found = await _json(client, f"/ucaps/{ucap_id}")
        if found is not None:
            views.activities_own = [a["activity_id"] for a in found["activities"]]

    async def logged() -> None:
        entries = await _json(client, f"/ucaps/{ucap_id}/history")
        if entries is not None:
            views.logged = [
                e["data"]["activity"]["activity_id"]
                for e in sorted(entries, key=lambda e: e["sequence"])
                if e["type"].startswith("ucap.ucap.activity_logged.")
            ]

    readers = [status(), ucap(), *(own(mou_id) for mou_id in mou_ids)]
    await asyncio.gather(*readers, *([logged()] if history else []))
    return views


@dataclass(frozen=True)
class Acked:
    """The signatures and activities acknowledged by some moment, in the order acknowledged."""

    signatures: dict[str, list[str]]
    activities: list[str]
    maybe_signatures: dict[str, set[str]] = field(default_factory=dict)
    maybe_activities: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, signers: list[SignatureWriter], logger: ActivityWriter) -> "Acked":
        signatures: dict[str, list[str]] = {}
        maybe: dict[str, set[str]] = {}
        for signer in signers:
            signatures |= signer.acknowledged_by_mou()
            maybe |= signer.unresolved_by_mou()
        activities = [a.key for a in logger.acknowledged]
        return cls(signatures, activities, maybe, set(logger.unresolved))


def _mou_views(
    views: ProgrammeViews,
) -> list[tuple[str, Mapping[str, list[str] | None] | None]]:
    return [
        ("the mous view (GET /mous/{id})", views.mous_own),
        ("the MoUs list (GET /mous?city=, in the status details)", views.mous_listed),
        ("reporting's U-CAP status", views.mous_reporting),
    ]


def holds_acked(views: ProgrammeViews, acked: Acked) -> bool:
    """Every view holds every signature and activity in ``acked``."""
    for _name, found in _mou_views(views):
        if found is None:
            return False
        for mou_id, cities in acked.signatures.items():
            if not set(cities) <= set(found.get(mou_id) or ()):
                return False
    return all(
        set(acked.activities) <= set(ids or ())
        for ids in (views.activities_own, views.activities_status)
    )


def _order_problem(subject: str, view: str, ids: list[str] | None, acked: list[str]) -> list[str]:
    """Only where the view holds each acknowledged one once: else that is the problem."""
    listed = [i for i in ids or [] if i in set(acked)]
    out_of_order = listed != acked and sorted(listed) == sorted(acked)
    return [f"{subject}: {view} has them in another order"] if out_of_order else []


def programme_problems(views: ProgrammeViews, acked: Acked) -> list[str]:
    """Every disagreement between the views and the acknowledged signatures and
    activities: one missing, held twice, unknown, or out of the order acknowledged."""
    problems: list[str] = []
    for name, found in _mou_views(views):
        if found is None:
            problems.append(f"MoUs: {name} did not answer")
            continue
        for mou_id, cities in acked.signatures.items():
            ids = found.get(mou_id, [])  # not listed at all: holds none of its signatures
            maybe = acked.maybe_signatures.get(mou_id, set())
            problems += ids_problems(mou_id, name, ids, set(cities), maybe)
            problems += _order_problem(mou_id, name, ids, cities)
    for mou_id, cities in acked.signatures.items():
        if len(cities) == 2 and mou_id not in views.reporting_signed:
            problems.append(f"{mou_id}: reporting's U-CAP status does not show it signed")
    for name, ids in (
        ("reporting's U-CAP (GET /ucaps/{id})", views.activities_own),
        ("reporting's U-CAP status", views.activities_status),
        ("the U-CAP's history", views.logged),
    ):
        problems += ids_problems(
            "activities", name, ids, set(acked.activities), acked.maybe_activities
        )
        problems += _order_problem("activities", name, ids, acked.activities)
    return problems
