"""The IATI 2.03 codes the activity document uses, and what each ucap fact maps to.

Each codelist holds only the codes ucap can emit, with their meaning in the standard;
``tests/services/gateway/test_iati.py`` checks every code in a document against them.
"""

from collections.abc import Mapping

from ucap_shared import iati

IATI_VERSION = "2.03"

ACTIVITY_STATUS: Mapping[str, str] = {
    str(code): name for code, name in iati.ACTIVITY_STATUS.items()
}
"""ActivityStatus. The pilots service gives each pilot its code (``iati_status``)."""

STATUS_OF_PILOT: Mapping[str, str] = {
    status: str(code) for status, code in iati.CODE_OF_PILOT_STATUS.items()
}
"""A pilot's status -> its ActivityStatus, for a pilot read without ``iati_status``
(``ucap_shared.iati``)."""

ORGANISATION_ROLE: Mapping[str, str] = {
    "1": "Funding",
    "2": "Accountable",
    "3": "Extending",
    "4": "Implementing",
}
FUNDING, IMPLEMENTING = "1", "4"

ROLE_OF_PARTNER: Mapping[str, str] = {
    "lead": IMPLEMENTING,
    "partner": IMPLEMENTING,
    "implementing": IMPLEMENTING,
    "funding": FUNDING,
}
"""A city's role in a pilot -> its OrganisationRole."""

ORGANISATION_TYPE: Mapping[str, str] = {
    "10": "Government",
    "11": "Local Government",
    "15": "Other Public Sector",
    "21": "International NGO",
    "22": "National NGO",
    "23": "Regional NGO",
    "24": "Partner Country based NGO",
    "30": "Public Private Partnership",
    "40": "Multilateral",
    "60": "Foundation",
    "70": "Private Sector",
    "71": "Private Sector in Provider Country",
    "72": "Private Sector in Aid Recipient Country",
    "73": "Private Sector in Third Country",
    "80": "Academic, Training and Research",
    "90": "Other",
}
"""OrganisationType: the reporting organisation's (a setting) and the cities' (11)."""
LOCAL_GOVERNMENT = "11"

ACTIVITY_DATE_TYPE: Mapping[str, str] = {
    "1": "Planned start",
    "2": "Actual start",
    "3": "Planned end",
    "4": "Actual end",
}
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"

SECTOR_VOCABULARY: Mapping[str, str] = {"7": "SDG Goal", "8": "SDG Target"}
SDG_GOAL, SDG_TARGET = "7", "8"

DESCRIPTION_TYPE: Mapping[str, str] = {"1": "General"}
GENERAL = "1"

TRANSACTION_TYPE: Mapping[str, str] = {"11": "Incoming Commitment"}
"""A funding award is a commitment of funds to the pilot, as its implementers report it."""
INCOMING_COMMITMENT = "11"

RESULT_TYPE: Mapping[str, str] = {"1": "Output"}
OUTPUT = "1"

INDICATOR_MEASURE: Mapping[str, str] = {"1": "Unit", "2": "Percentage"}
UNIT, PERCENTAGE = "1", "2"
PERCENT_UNITS = frozenset({"%", "percent", "percentage", "per cent"})
