"""The envelope on the wire: CloudEvents 1.0 structured mode, extensions kept, old records read."""

import json
from typing import Any

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from pydantic import ValidationError

from ucap_shared.dispatch import MalformedRecord, parse_envelope
from ucap_shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope


def envelope(**fields: Any) -> Envelope:
    return Envelope(
        source="ucap/tally",
        type="ucap.tally.counted.v1",
        subject="t1",
        sequence=3,
        data={"amount": 1},
        actor="test",
        **fields,
    )


def wire(**changes: Any) -> bytes:
    """The JSON of an event as a record carries it, with ``changes`` (None: removed)."""
    fields = json.loads(envelope().to_json())
    fields.update(changes)
    return json.dumps({k: v for k, v in fields.items() if v is not None}).encode()


class TestTheRecord:
    def test_is_structured_mode_with_no_binary_mode_header(self) -> None:
        headers = dict(envelope().record_headers())

        assert headers == {"content-type": b"application/cloudevents+json; charset=UTF-8"}
        assert STRUCTURED_CONTENT_TYPE.encode() == headers["content-type"]

    def test_the_official_sdk_reads_it_with_every_attribute(self) -> None:
        sent = envelope(correlationid="req-1", causationid="cause-1")
        message = KafkaMessage(
            headers=dict(sent.record_headers()), key=sent.record_key(), value=sent.to_json()
        )

        read = from_kafka(message, JSONFormat())

        assert read.get_specversion() == "1.0"
        assert read.get_id() == str(sent.id)
        assert (read.get_source(), read.get_type()) == ("ucap/tally", "ucap.tally.counted.v1")
        assert read.get_subject() == "t1"
        assert read.get_time() == sent.time
        assert read.get_datacontenttype() == "application/json"
        assert read.get_data() == {"amount": 1}
        assert read.get_extension("aggregateversion") == 3
        assert read.get_extension("sequence") is None
        assert read.get_extension("correlationid") == "req-1"
        assert read.get_extension("causationid") == "cause-1"
        assert read.get_extension("actor") == "test"

    def test_carries_the_version_as_aggregateversion_and_no_sequence(self) -> None:
        fields = json.loads(envelope().to_json())

        assert fields["aggregateversion"] == 3
        assert "sequence" not in fields

    def test_leaves_out_the_optional_attributes_it_has_no_value_for(self) -> None:
        fields = json.loads(envelope().to_json())

        assert "correlationid" not in fields
        assert "causationid" not in fields


class TestExtensionAttributes:
    def test_unknown_ones_are_accepted_and_written_out_again(self) -> None:
        traced = wire(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")

        read = parse_envelope(traced)

        assert read.extensions == {
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        }
        assert json.loads(read.to_json()) == json.loads(traced)
        assert Envelope.from_json(read.to_json()) == read

    def test_the_cloudevents_sequence_extension_is_kept_beside_the_version(self) -> None:
        read = parse_envelope(wire(sequence="00000000000000000042"))

        assert read.sequence == 3
        assert read.extensions == {"sequence": "00000000000000000042"}

    def test_a_null_one_is_one_that_is_not_there(self) -> None:
        assert parse_envelope(wire(partitionkey=None, correlationid=None)).extensions == {}

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("TraceParent", "x"),
            ("trace_parent", "x"),
            ("nested", {"a": 1}),
            ("listed", [1]),
            ("ratio", 0.5),
            ("huge", 2**40),
        ],
    )
    def test_a_malformed_one_makes_the_record_malformed(self, name: str, value: object) -> None:
        with pytest.raises(MalformedRecord, match=name):
            parse_envelope(wire(**{name: value}))


class TestRecordsPublishedBeforeAggregateversion:
    def test_an_integer_sequence_is_read_as_the_version(self) -> None:
        old = {**json.loads(wire(aggregateversion=None)), "sequence": 7, "causationid": None}

        read = parse_envelope(json.dumps(old).encode())

        assert read.sequence == 7
        assert read.extensions == {}
        assert json.loads(read.to_json())["aggregateversion"] == 7

    def test_an_event_store_document_with_an_integer_sequence_is_read_too(self) -> None:
        document = {**json.loads(wire(aggregateversion=None)), "sequence": 2}

        assert Envelope.model_validate(document).sequence == 2

    def test_a_string_sequence_alone_is_no_version(self) -> None:
        with pytest.raises(MalformedRecord, match="aggregateversion"):
            parse_envelope(wire(aggregateversion=None, sequence="7"))

    def test_an_integer_sequence_beside_the_version_is_refused(self) -> None:
        with pytest.raises(MalformedRecord, match="sequence extension is a string"):
            parse_envelope(wire(sequence=3))


class TestRequiredAttributes:
    @pytest.mark.parametrize("name", ["specversion", "id", "time", "source", "type", "actor"])
    def test_a_record_without_one_is_malformed(self, name: str) -> None:
        with pytest.raises(MalformedRecord, match=name):
            parse_envelope(wire(**{name: None}))

    def test_one_made_here_gets_its_id_time_and_specversion(self) -> None:
        made = envelope()

        assert made.specversion == "1.0"
        assert made.time.tzinfo is not None
        assert json.loads(made.to_json())["id"] == str(made.id)

    @pytest.mark.parametrize("version", ["3", 0, 2.5])
    def test_the_version_is_an_integer_from_one(self, version: object) -> None:
        with pytest.raises(ValidationError, match="aggregateversion"):
            Envelope.from_json(wire(aggregateversion=version))
