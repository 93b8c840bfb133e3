"""The OpenAPI document: every route described, every request example valid."""

import pytest
from pydantic import BaseModel

from ucap_mous.main import create_app
from ucap_mous.schemas import (
    AmendmentRequest,
    DraftMouRequest,
    SignatureRequest,
    TerminationRequest,
)


class TestOpenApi:
    def test_every_mous_route_has_a_summary(self) -> None:
        paths = create_app().openapi()["paths"]
        operations = [
            (path, method, operation)
            for path, methods in paths.items()
            if path.startswith("/mous")
            for method, operation in methods.items()
        ]
        assert len(operations) == 9
        assert [op for op in operations if not op[2].get("summary")] == []

    @pytest.mark.parametrize(
        "model", [DraftMouRequest, SignatureRequest, AmendmentRequest, TerminationRequest]
    )
    def test_request_examples_are_valid(self, model: type[BaseModel]) -> None:
        examples = model.model_json_schema()["examples"]
        assert examples
        for example in examples:
            model.model_validate(example)
