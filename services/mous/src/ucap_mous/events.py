"""The events the MoUs service publishes on ``ucap.mous.events``.

Other services (pilots, reporting) consume these: the type strings and field
names are a contract. A breaking change is a new ``.vN`` type, never an edit.
"""

from pydantic import BaseModel, ConfigDict, Field

from ucap_shared.dates import PartialDate
from ucap_shared.events import EventData


class Party(BaseModel):
    """A city party to a MoU, with those of its stakeholder organisations that take part."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    city_id: str = Field(description="The party city's id", examples=["zhengzhou"])
    stakeholder_ids: tuple[str, ...] = Field(
        default=(),
        description="Stakeholder organisations of that city involved in the MoU",
        examples=[["chengang-group"]],
    )


class LinkedDocument(BaseModel):
    """A document about the MoU: the signed text, a press release …"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, examples=["Signed MoU (Chinese and Spanish)"])
    url: str = Field(min_length=1, examples=["https://www.granada.org/mou-zhengzhou.pdf"])


class MouDrafted(EventData):
    event_type = "ucap.mou.drafted.v1"

    mou_id: str
    title: str
    subject: str
    parties: tuple[Party, ...]
    themes: tuple[str, ...]
    valid_from: PartialDate | None
    valid_until: PartialDate | None
    documents: tuple[LinkedDocument, ...]


class MouPartyAdded(EventData):
    event_type = "ucap.mou.party_added.v1"

    mou_id: str
    party: Party


class MouSigned(EventData):
    """One party's signature; a MoU signed by two cities has two of these."""

    event_type = "ucap.mou.signed.v1"

    mou_id: str
    city_id: str
    signed_on: PartialDate
    place: str | None
    signatory: str | None
    occasion: str | None


class MouAmended(EventData):
    event_type = "ucap.mou.amended.v1"

    mou_id: str
    amended_on: PartialDate
    summary: str


class MouTerminated(EventData):
    event_type = "ucap.mou.terminated.v1"

    mou_id: str
    terminated_on: PartialDate
    reason: str


class MouExpired(EventData):
    """The MoU's validity ended (``expired_on`` is its ``valid_until``)."""

    event_type = "ucap.mou.expired.v1"

    mou_id: str
    expired_on: PartialDate


MouEvent = MouDrafted | MouPartyAdded | MouSigned | MouAmended | MouTerminated | MouExpired

PUBLISHED_EVENTS: tuple[type[EventData], ...] = (
    MouDrafted,
    MouPartyAdded,
    MouSigned,
    MouAmended,
    MouTerminated,
    MouExpired,
)
