"""The bodies the MoUs API takes: parsed and bounded here, turned into commands."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ucap_mous.domain import Amendment, Signature, Termination
from ucap_mous.events import LinkedDocument, MouDrafted, Party
from ucap_shared import bounds
from ucap_shared.dates import PartialDate

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

Id = Annotated[str, Field(max_length=bounds.ID_CHARS)]


class PartyIn(BaseModel):
    """A party to a MoU: a city (`city_id`), a city's stakeholder organisation (`city_id` and
    `organisation_id`, for a MoU between organisations of two cities) or an organisation
    with no city (`organisation_id`, registered with `POST /organisations` of the cities
    service); with those of its city's stakeholder organisations that take part."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"city_id": "zhengzhou", "stakeholder_ids": ["chengang-group"]},
                {"city_id": "barcelona", "organisation_id": "fira-de-barcelona"},
                {"organisation_id": "uk-china-biotech-fund"},
            ]
        },
    )

    city_id: Id | None = Field(
        default=None, description="The party city, or the city of the party organisation"
    )
    organisation_id: Id | None = Field(
        default=None,
        description="With `city_id`: that city's stakeholder; alone: an organisation with no city",
    )
    stakeholder_ids: list[Id] = Field(
        default_factory=list,
        max_length=bounds.IDS_PER_LIST,
        description="Stakeholder organisations of the party's city involved in the MoU",
    )

    @model_validator(mode="after")
    def _named(self) -> "PartyIn":
        if self.city_id is None and self.organisation_id is None:
            raise ValueError("a party names a city_id, an organisation_id or both")
        return self

    def party(self) -> Party:
        return Party(
            city_id=self.city_id,
            organisation_id=self.organisation_id,
            stakeholder_ids=tuple(self.stakeholder_ids),
        )


class LinkedDocumentIn(BaseModel):
    """A document about the MoU: the signed text, a press release …"""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(
        min_length=1,
        max_length=bounds.TITLE_CHARS,
        examples=["Signed MoU (Chinese and Spanish)"],
    )
    url: str = Field(
        min_length=1,
        max_length=bounds.URL_CHARS,
        examples=["https://www.granada.org/mou-zhengzhou.pdf"],
    )

    def document(self) -> LinkedDocument:
        return LinkedDocument(title=self.title, url=self.url)


class DraftMouRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "granada-zhengzhou-2018",
                    "title": "MoU between Granada and Zhengzhou City Government",
                    "subject": "Cooperation on smart city topics",
                    "parties": [
                        {"city_id": "granada", "stakeholder_ids": []},
                        {"city_id": "zhengzhou", "stakeholder_ids": []},
                    ],
                    "themes": ["Smart City and Digital Transition"],
                    "valid_from": "2018-07",
                    "valid_until": None,
                    "documents": [],
                }
            ]
        },
    )

    id: str = Field(
        pattern=SLUG_PATTERN,
        max_length=bounds.ID_CHARS,
        description="The MoU's id, a slug chosen by the caller",
        examples=["granada-zhengzhou-2018"],
    )
    title: str = Field(min_length=1, max_length=bounds.TITLE_CHARS, description="The MoU's title")
    subject: str = Field(
        min_length=1,
        max_length=bounds.TEXT_CHARS,
        description="What the MoU is about",
        examples=["Cooperation on the Ciba Biotechnology Town project"],
    )
    parties: list[PartyIn] = Field(
        min_length=2,
        max_length=bounds.ITEMS_PER_LIST,
        description="Two or more parties (cities or organisations), each once",
    )
    themes: list[Annotated[str, Field(max_length=bounds.NAME_CHARS)]] = Field(
        default_factory=list,
        max_length=bounds.THEMES_PER_LIST,
        description="Cooperation themes",
        examples=[["Life Sciences and Healthy City"]],
    )
    valid_from: PartialDate | None = Field(
        default=None, description="Start of validity; unset: in force once all parties signed"
    )
    valid_until: PartialDate | None = Field(
        default=None, description="End of validity; unset: open-ended"
    )
    documents: list[LinkedDocumentIn] = Field(
        default_factory=list, max_length=bounds.ITEMS_PER_LIST, description="Linked documents"
    )
    drafted_on: PartialDate | None = Field(
        default=None,
        description="When it was drafted, if not today: the day the cooperation's own time "
        "(`as_of`) counts it from",
        examples=["2018-06"],
    )

    def command(self) -> MouDrafted:
        return MouDrafted(
            mou_id=self.id,
            title=self.title,
            subject=self.subject,
            parties=tuple(party.party() for party in self.parties),
            themes=tuple(self.themes),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            documents=tuple(document.document() for document in self.documents),
            drafted_on=self.drafted_on,
        )


class SignatureRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "city_id": "granada",
                    "signed_on": "2018-07",
                    "place": "Zhengzhou",
                    "signatory": None,
                    "occasion": "EU cities mission to China, July 2018",
                },
                {
                    "city_id": "barcelona",
                    "organisation_id": "fira-de-barcelona",
                    "signed_on": None,
                },
            ]
        },
    )

    city_id: Id | None = Field(
        default=None,
        description=(
            "The party city signing, or the city of the party organisation. A city system"
            " signs only for its own city (or its stakeholder) and may leave this out; an"
            " operator names it. Null with `organisation_id`: an organisation with no city."
        ),
        examples=["granada"],
    )
    organisation_id: Id | None = Field(
        default=None,
        description="The party organisation signing, as the party names it",
        examples=[None],
    )
    signed_on: PartialDate | None = Field(
        description="When it signed, to the day, month or year; required, null when the date"
        " is not known"
    )
    place: str | None = Field(
        default=None, max_length=bounds.NAME_CHARS, description="Where", examples=["Zhengzhou"]
    )
    signatory: str | None = Field(
        default=None, max_length=bounds.NAME_CHARS, description="Who signed for the city"
    )
    occasion: str | None = Field(
        default=None,
        max_length=bounds.TITLE_CHARS,
        description="On what occasion",
        examples=["July 2018 mission"],
    )

    def signature(self, party: tuple[str | None, str | None]) -> Signature:
        city_id, organisation_id = party
        return Signature(
            **(self.model_dump() | {"city_id": city_id, "organisation_id": organisation_id})
        )


class AmendmentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"amended_on": "2019-06", "summary": "Adds the health park pilot"}]
        },
    )

    amended_on: PartialDate = Field(description="When the amendment was agreed")
    summary: str = Field(
        min_length=1, max_length=bounds.TEXT_CHARS, description="What the amendment changes"
    )

    def amendment(self) -> Amendment:
        return Amendment(**self.model_dump())


class TerminationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"terminated_on": "2020-11", "reason": "Superseded by a new MoU"}]
        },
    )

    terminated_on: PartialDate = Field(description="When the MoU was terminated")
    reason: str = Field(min_length=1, max_length=bounds.NOTE_CHARS, description="Why")

    def termination(self) -> Termination:
        return Termination(**self.model_dump())
