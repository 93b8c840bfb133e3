"""MoUs: drafted by one of their parties, dated by ``drafted_on`` (by default the first
dated signature), then signed by each party with its own key; a party that has signed
already is not signed again. A party is a city, a city's stakeholder (city and
organisation), or an organisation with no city (the admin key acts for it); a
signature's ``signed_on`` is always sent, null when its date is not known."""

from typing import Any

from ucap_ops.datafile import Mou
from ucap_ops.loading.outcome import Outcome
from ucap_ops.loading.run import Run


def load_mou(run: Run, mou: Mou) -> None:
    run.progress.working_on(f"mou {mou.id}")
    parties = [party.city_id for party in mou.parties if party.city_id is not None]
    current = run.gateway.read(f"/mous/{mou.id}", parties)
    if current.status == 404:
        body = mou.model_dump(mode="json", exclude={"drafted_on", "signatures"}, exclude_none=True)
        if mou.drafted is not None:
            body["drafted_on"] = mou.drafted
        current = run.gateway.send("POST", "/mous", body, acting=parties, on=mou.drafted)
        run.written("mou", mou.id, current, Outcome.CREATED)
    elif current.ok:
        run.record("mou", mou.id, Outcome.SKIPPED, "already drafted")
    else:
        run.refused("mou", mou.id, current)
    for signature in mou.signatures:
        item = f"{mou.id} by {signature.label}"
        if not current.ok:
            run.not_attempted("signature", item, f"MoU {mou.id} was refused")
            continue
        if signature.party in signed_parties(current.body):
            run.record("signature", item, Outcome.SKIPPED, "already signed")
            continue
        run.progress.working_on(f"signature {item}")
        reply = run.gateway.send(
            "POST",
            f"/mous/{mou.id}/signatures",
            signature_body(signature.model_dump(mode="json", exclude_none=True)),
            acting=[signature.city_id] if signature.city_id is not None else [],
            on=signature.signed_on,
        )
        run.written("signature", item, reply, Outcome.CREATED)
        if reply.ok:
            current = reply


def signature_body(dumped: dict[str, Any]) -> dict[str, Any]:
    """The signing body: ``signed_on`` is required even when null (date unknown)."""
    return {**dumped, "signed_on": dumped.get("signed_on")}


def signed_parties(mou: dict[str, Any]) -> set[tuple[str | None, str | None]]:
    return {
        (held.get("city_id"), held.get("organisation_id")) for held in mou.get("signatures", [])
    }
