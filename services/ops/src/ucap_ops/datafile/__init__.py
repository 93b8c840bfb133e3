"""The U-CAP data file that ``ucap load`` reads: its models, and reading one."""

from ucap_ops.datafile.models import (
    Activity,
    City,
    DataFile,
    Delivery,
    Mou,
    Organisation,
    Pilot,
    Ucap,
)
from ucap_ops.datafile.reading import DataFileError, combined, parse_data_file, read_data_file

__all__ = [
    "Activity",
    "City",
    "DataFile",
    "DataFileError",
    "Delivery",
    "Mou",
    "Organisation",
    "Pilot",
    "Ucap",
    "combined",
    "parse_data_file",
    "read_data_file",
]
