"""Funding: an award to a pilot."""

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from ucap_pilots.events import FundingAward
from ucap_pilots.schemas.fields import Label, RequestModel, Slug, Word, slug_of
from ucap_shared.dates import PartialDate


class FundingRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "iuc-competitive-fund-2019",
                    "funder": "IUC competitive fund",
                    "category": "gold",
                    "awarded_on": "2019-09",
                }
            ]
        },
    )

    id: Slug | None = Field(default=None, description="Unique within the pilot; default derived")
    funder: Label
    category: Word | None = None
    amount: Annotated[str, StringConstraints(pattern=r"^\d{1,15}(\.\d{1,4})?$")] | None = Field(
        default=None, description="A decimal as a string", examples=["50000.00"]
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="ISO 4217", examples=["EUR"]
    )
    awarded_on: PartialDate

    def award(self) -> FundingAward:
        return FundingAward(
            award_id=self.id or slug_of(self.funder, self.awarded_on.iso()),
            funder=self.funder,
            category=self.category,
            amount=self.amount,
            currency=self.currency,
            awarded_on=self.awarded_on,
        )
