"""MoUs: drafted by one of their parties, then signed by each party with its own key; a
party that has signed already is not signed again."""

from ucap_ops.datafile import Mou
from ucap_ops.loading.outcome import Outcome
from ucap_ops.loading.run import Run


def load_mou(run: Run, mou: Mou) -> None:
    run.progress.working_on(f"mou {mou.id}")
    parties = [party.city_id for party in mou.parties]
    current = run.gateway.read(f"/mous/{mou.id}", parties)
    if current.status == 404:
        body = mou.model_dump(mode="json", exclude={"drafted_on", "signatures"}, exclude_none=True)
        current = run.gateway.send("POST", "/mous", body, acting=parties, on=mou.drafted)
        run.written("mou", mou.id, current, Outcome.CREATED)
    elif current.ok:
        run.record("mou", mou.id, Outcome.SKIPPED, "already drafted")
    else:
        run.refused("mou", mou.id, current)
    for signature in mou.signatures:
        item = f"{mou.id} by {signature.city_id}"
        if not current.ok:
            run.not_attempted("signature", item, f"MoU {mou.id} was refused")
            continue
        signed = {held["city_id"] for held in current.body.get("signatures", [])}
        if signature.city_id in signed:
            run.record("signature", item, Outcome.SKIPPED, "already signed")
            continue
        run.progress.working_on(f"signature {item}")
        reply = run.gateway.send(
            "POST",
            f"/mous/{mou.id}/signatures",
            signature.model_dump(mode="json", exclude_none=True),
            acting=[signature.city_id],
            on=signature.signed_on,
        )
        run.written("signature", item, reply, Outcome.CREATED)
        if reply.ok:
            current = reply
