"""How much a client may send: the longest string and the longest list of each kind of
request field, and the largest event a command may record.

Every service's request models take their ``max_length`` from here, so the OpenAPI
documents show the same ``maxLength`` and ``maxItems`` for the same kind of field. The
bounds are generous: the longest values of the demo data and of the Granada U-CAP
summary are far below them (noted where they come closest).
"""

ID_CHARS = 100
"""An id or slug chosen by a caller; ids made from a city's id and a suffix stay far below."""

WORD_CHARS = 50
"""A unit or a category: a word or two."""

NAME_CHARS = 200
"""A name on one line: a city, an organisation, a place, a person, a theme, a cluster."""

TITLE_CHARS = 500
"""The title of a MoU, an activity, a document (the demo's longest, an activity's: 147)."""

NOTE_CHARS = 2_000
"""A note, a reason, a contact: a paragraph at most."""

TEXT_CHARS = 5_000
"""A description, a summary, a subject, an outcome, a key focus: a few paragraphs."""

SECTION_CHARS = 20_000
"""A U-CAP section written as a document (Granada's expected results: 3 225)."""

URL_CHARS = 2_000
"""A URL: about what browsers, servers and proxies all handle."""

KEY_CHARS = 200
"""An idempotency key: a client's own id for one request."""

THEMES_PER_LIST = 20
"""Themes, clusters, urban agenda topics, attachments: a handful each."""

ITEMS_PER_LIST = 50
"""Cities of a MoU, pilot, U-CAP or activity, and other entries: documents, deliverables,
places, challenges, objectives, indicator values, SDG targets, linked MoUs."""

IDS_PER_LIST = 100
"""Stakeholder organisations of a city or taking part in a pilot or a MoU party."""

SDGS = 17
"""There are 17 Sustainable Development Goals."""

MAX_EVENT_BYTES = 256 * 1024
"""The largest event data a command may record, as JSON in UTF-8. The envelope around it
adds well under a kilobyte, so one record stays far below Kafka's 1 MiB limit."""

MOUS_PER_CITY = 40
"""The most MoUs one city may be party to (the demo's Granada: 4). Not a request bound but
a capacity: the mous service refuses (409) a draft or a new party past it, and reporting's
status document of a U-CAP holds a copy of each MoU of its lead, so its size rests on it
(the arithmetic is in ``ucap_reporting.capacity``)."""
