"""A domain names a field within its command; the 422 names it within the request."""

from ucap_shared.errors import in_request, status_of
from ucap_shared.problems import ConflictError, FieldProblem, InvalidInputError, NotFoundError


class TestWhereAProblemIs:
    def test_a_field_of_the_command_is_in_the_body(self) -> None:
        problem = FieldProblem(loc=["parties", 1, "city_id"], msg="unknown city")

        assert in_request(problem)["loc"] == ["body", "parties", 1, "city_id"]

    def test_a_place_the_caller_named_stays_where_it_is(self) -> None:
        for part in ("query", "path", "header", "body"):
            problem = FieldProblem(loc=[part, "as_of"], msg="bad day")

            assert in_request(problem)["loc"] == [part, "as_of"]

    def test_the_message_and_type_go_with_it(self) -> None:
        listed = in_request(FieldProblem(loc=["id"], msg="exists", type="value_error"))

        assert listed == {"loc": ["body", "id"], "msg": "exists", "type": "value_error"}


class TestStatusCodes:
    def test_each_domain_refusal_has_its_status(self) -> None:
        assert status_of(NotFoundError("no city x")) == 404
        assert status_of(ConflictError("exists")) == 409
        assert status_of(InvalidInputError([FieldProblem(loc=["id"], msg="bad")])) == 422

    def test_a_subclass_takes_its_parent_s(self) -> None:
        class CityGoneError(NotFoundError):
            pass

        assert status_of(CityGoneError("no city x")) == 404
