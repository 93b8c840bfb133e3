"""The events the MoUs service publishes on ``ucap.mous.events``.

Other services (pilots, reporting) consume these: the type strings and field
names are a contract. A breaking change is a new ``.vN`` type, never an edit.
"""

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ucap_shared.dates import PartialDate
from ucap_shared.events import EventData

PartyKey = tuple[str | None, str | None]
"""A party's (city id, organisation id): what names it, in a MoU and in a signature."""


class Party(BaseModel):
    """A party to a MoU: a city; a city's stakeholder organisation (``city_id`` and
    ``organisation_id``); or an organisation with no city (only ``organisation_id``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    city_id: str | None = Field(
        default=None,
        description="The party city, or the city whose stakeholder the party is; null for an"
        " organisation with no city",
        examples=["zhengzhou"],
    )
    organisation_id: str | None = Field(
        default=None,
        description="With `city_id`: the city's stakeholder that is the party; alone: an"
        " organisation with no city. Null (absent in events before it existed): the city",
        examples=[None],
    )
    stakeholder_ids: tuple[str, ...] = Field(
        default=(),
        description="Stakeholder organisations of the party's city involved in the MoU",
        examples=[["chengang-group"]],
    )

    @model_validator(mode="after")
    def _named(self) -> "Party":
        if self.city_id is None and self.organisation_id is None:
            raise ValueError("a party names a city_id, an organisation_id or both")
        return self

    @property
    def key(self) -> PartyKey:
        return (self.city_id, self.organisation_id)


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
                        {"city_id": "granada", "organisation_id": None, "stakeholder_ids": []},
                        {
                            "city_id": "zhengzhou",
                            "organisation_id": None,
                            "stakeholder_ids": ["chengang-group"],
                        },
                    ],
                    "themes": ["Smart City and Digital Transition"],
                    "valid_from": "2018-07",
                    "valid_until": None,
                    "documents": [],
                    "drafted_on": "2018-06",
                },
                {
                    "mou_id": "fira-barcelona-tianfu-2019",
                    "title": "Fira de Barcelona – Tianfu New District",
                    "subject": "Smart City Congress in Chengdu",
                    "parties": [
                        {
                            "city_id": "barcelona",
                            "organisation_id": "fira-de-barcelona",
                            "stakeholder_ids": [],
                        },
                        {
                            "city_id": "tianfu-new-district",
                            "organisation_id": None,
                            "stakeholder_ids": [],
                        },
                    ],
                    "themes": ["Smart City and Digital Transition"],
                    "valid_from": None,
                    "valid_until": None,
                    "documents": [],
                },
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
    drafted_on: PartialDate | None = Field(
        default=None,
        description="When it was drafted, as its parties date it; null: when it was recorded "
        "(events from before this field read as null)",
    )


class MouPartyAdded(EventData):
    event_type = "ucap.mou.party_added.v1"
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mou_id": "granada-zhengzhou-2018",
                    "party": {"city_id": "haikou", "organisation_id": None, "stakeholder_ids": []},
                },
                {
                    "mou_id": "granada-kunming-ciba-2018",
                    "party": {
                        "city_id": None,
                        "organisation_id": "uk-china-biotech-fund",
                        "stakeholder_ids": [],
                    },
                },
            ]
        },
    )

    mou_id: str
    party: Party


class MouSigned(EventData):
    """One party's signature; a MoU of two parties has two of these.

    (``city_id``, ``organisation_id``) names the party as in ``Party``; events before
    ``organisation_id`` existed name a city. ``signed_on`` null: the date is not known.
    """

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
                    "organisation_id": None,
                },
                {
                    "mou_id": "granada-kunming-ciba-2018",
                    "city_id": None,
                    "organisation_id": "uk-china-biotech-fund",
                    "signed_on": None,
                    "place": None,
                    "signatory": None,
                    "occasion": None,
                },
            ]
        },
    )

    mou_id: str
    city_id: str | None
    organisation_id: str | None = None
    signed_on: PartialDate | None
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
