"""Inputs no schema generates, shared by the guard's unit tests and the fuzz module."""

DEEP_ARRAY = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
ODD_CONTENT_TYPES = (
    "text/plain",
    "application/JSON",
    "Application/Json; charset=utf-8",
    "application/merge-patch+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "",
)
OCCURRED_AT_EDGES = (
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "0000-01-01",
    "10000-01-01",
    "-0001-01-01",
    "2018-13",
    "2018-02-30",
    "2018-07-01T24:00:00Z",
    "2018-07-01T23:59:60Z",
    "1e309",
    "9" * 200,
)
