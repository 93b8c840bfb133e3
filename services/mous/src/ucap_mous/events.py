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
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mou_id": "granada-zhengzhou-2018",
                    "title": "MoU between Granada and Zhengzhou City Government",
                    "subject": "Cooperation on smart city topics",
                    "parties": [
                        {"city_id": "granada", "stakeholder_ids": []},
                        {"city_id": "zhengzhou", "stakeholder_ids": ["chengang-group"]},
                    ],
                    "themes": ["Smart City and Digital Transition"],
                    "valid_from": "2018-07",
                    "valid_until": None,
                    "documents": [],
                }
            ]
        },
    )

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
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mou_id": "granada-zhengzhou-2018",
                    "party": {"city_id": "haikou", "stakeholder_ids": []},
                }
            ]
        },
    )

    mou_id: str
    party: Party


class MouSigned(EventData):
    """One party's signature; a MoU signed by two cities has two of these."""

    event_type = "ucap.mou.signed.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mou_id": "granada-zhengzhou-2018",
                    "city_id": "granada",
                    "signed_on": "2018-07",
                    "place": "Zhengzhou",
                    "signatory": None,
                    "occasion": "EU cities mission to China",
                }
            ]
        },
    )

    mou_id: str
    city_id: str
    signed_on: PartialDate
    place: str | None
    signatory: str | None
    occasion: str | None


class MouAmended(EventData):
    event_type = "ucap.mou.amended.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mou_id": "granada-kunming-ciba-2018",
                    "amended_on": "2019-06",
                    "summary": "Adds the Kangmei Kunming Health City project",
                }
            ]
        },
    )

    mou_id: str
    amended_on: PartialDate
    summary: str


class MouTerminated(EventData):
    event_type = "ucap.mou.terminated.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mou_id": "granada-kunming-ciba-2018",
                    "terminated_on": "2020-11-30",
                    "reason": "Superseded by the cluster U-CAP",
                }
            ]
        },
    )

    mou_id: str
    terminated_on: PartialDate
    reason: str


class MouExpired(EventData):
    """The MoU's validity ended (``expired_on`` is its ``valid_until``)."""

    event_type = "ucap.mou.expired.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"mou_id": "granada-haikou-2018", "expired_on": "2020-11"}]
        },
    )

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
