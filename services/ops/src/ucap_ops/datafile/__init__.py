"""The U-CAP data file that ``ucap load`` reads: its models, and reading one."""

from ucap_ops.datafile.models import (
    Activity,
    City,
    DataFile,
    Delivery,
    Mou,
    Pilot,
    Ucap,
)
from ucap_ops.datafile.reading import DataFileError, parse_data_file, read_data_file

__all__ = [
    "Activity",
    "City",
    "DataFile",
    "DataFileError",
    "Delivery",
    "Mou",
    "Pilot",
    "Ucap",
    "parse_data_file",
    "read_data_file",
]
