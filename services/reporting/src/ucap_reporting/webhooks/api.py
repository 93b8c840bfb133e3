"""``/webhooks``: register, list and delete subscriptions.

A city's publisher key subscribes only for U-CAPs its city leads or is a counterpart
of, and sees and deletes only its city's subscriptions; an admin does all of it. The
secret that signs the deliveries is in the answer to the registration, and nowhere
after.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from ucap_reporting import views
from ucap_reporting.api import NOT_FOUND
from ucap_reporting.webhooks import subscriptions
from ucap_reporting.webhooks.addresses import EndpointRefused, check_url, destination
from ucap_reporting.webhooks.signing import REPLAY_WINDOW_SECONDS, new_secret
from ucap_reporting.webhooks.subscriptions import ChangeKind, Subscription
from ucap_shared import bounds
from ucap_shared.api_docs import VALIDATION_ERROR_REF, error_response
from ucap_shared.auth import Principal, Writer, require
from ucap_shared.errors import ErrorBody, FieldProblem, InvalidInputError, NotFoundError
from ucap_shared.service_api import RuntimeDep

MAX_UCAPS = 50

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorBody,
        "description": "The caller may not write, or its city takes no part in a U-CAP named "
        "(or, to delete, did not register the subscription)",
    }
}
REFUSED_URL: dict[int | str, dict[str, Any]] = {
    422: error_response(
        "Invalid input; among it, in production, an endpoint that is not HTTPS or whose host "
        "is or resolves to a loopback, private, link-local or otherwise non-public address",
        VALIDATION_ERROR_REF,
    )
}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=bounds.URL_CHARS,
        description="Where deliveries are posted: HTTPS to a public address in production",
        examples=["https://partner.example.org/ucap-hooks"],
    )
    ucap_ids: list[Annotated[str, Field(min_length=1, max_length=bounds.ID_CHARS)]] = Field(
        min_length=1, max_length=MAX_UCAPS, examples=[["granada-ucap"]]
    )
    kinds: list[ChangeKind] = Field(
        min_length=1, max_length=len(ChangeKind), examples=[["status_changed", "mou_signed"]]
    )
    description: str | None = Field(default=None, max_length=bounds.NAME_CHARS)


class SubscriptionCreated(Subscription):
    secret: str = Field(
        description="Signs every delivery (HMAC-SHA256 of `<X-UCAP-Timestamp>.<body>`, in "
        f"`X-UCAP-Signature` as `v1=<hex>`). Shown only now: keep it. Refuse a delivery "
        f"whose timestamp is more than {REPLAY_WINDOW_SECONDS} s from your clock."
    )


async def _check_ucaps(runtime: RuntimeDep, caller: Principal, ucap_ids: list[str]) -> None:
    for ucap_id in sorted(set(ucap_ids)):
        ucap = await views.find_ucap(runtime.database, ucap_id)
        if ucap is None:
            raise NotFoundError(f"no U-CAP {ucap_id!r}")
        require(
            caller,
            caller.is_admin or caller.city_id in {ucap.lead_city_id, *ucap.counterpart_city_ids},
            f"subscribe to U-CAP {ucap_id}: a city subscribes only to U-CAPs it takes part in",
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an endpoint for changes of U-CAPs the caller takes part in",
    responses={**FORBIDDEN, **NOT_FOUND, **REFUSED_URL},
)
async def register(
    body: SubscriptionIn, caller: Writer, runtime: RuntimeDep
) -> SubscriptionCreated:
    try:
        if runtime.settings.production:
            await destination(body.url, production=True)
        else:  # development allows any address: only production resolves the name to check it
            check_url(body.url, production=False)
    except EndpointRefused as refused:
        raise InvalidInputError([FieldProblem(loc=["body", "url"], msg=str(refused))]) from refused
    await _check_ucaps(runtime, caller, body.ucap_ids)
    secret = new_secret()
    created = await subscriptions.insert(
        runtime.database,
        caller=caller,
        url=body.url,
        ucap_ids=body.ucap_ids,
        kinds=body.kinds,
        secret=secret,
        description=body.description,
    )
    return SubscriptionCreated(**created.model_dump(), secret=secret)


class SubscriptionList(BaseModel):
    items: list[Subscription]


@router.get("", summary="The caller's city's subscriptions (an admin: every one)")
async def list_subscriptions(caller: Writer, runtime: RuntimeDep) -> SubscriptionList:
    city = None if caller.is_admin else caller.city_id
    if city is None and not caller.is_admin:
        return SubscriptionList(items=[])
    return SubscriptionList(items=await subscriptions.of_city(runtime.database, city))


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a subscription: its pending deliveries are not sent",
    responses={
        **FORBIDDEN,
        404: {"model": ErrorBody, "description": "No subscription with this id"},
    },
)
async def delete_subscription(
    subscription_id: Annotated[str, Path(max_length=bounds.ID_CHARS)],
    caller: Writer,
    runtime: RuntimeDep,
) -> Response:
    found = await subscriptions.find(runtime.database, subscription_id)
    if found is None:
        raise NotFoundError(f"no subscription {subscription_id!r}")
    require(
        caller,
        caller.is_admin or (caller.city_id is not None and found.get("city_id") == caller.city_id),
        f"delete subscription {subscription_id}: registered by {found['owner']}",
    )
    await subscriptions.delete(runtime.database, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
