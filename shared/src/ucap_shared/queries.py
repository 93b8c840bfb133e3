"""Filters written so that FerretDB, like MongoDB, serves their equalities from an index,
and pages read in ``_id`` order."""

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]


def all_of(conditions: list[Document]) -> Document:
    """A filter that every one of ``conditions`` holds for.

    FerretDB v1 hands PostgreSQL only the equalities at a filter's top level
    (``{field: value}``); one inside ``$and`` is evaluated over the whole
    collection. So each plain equality on a field not yet named goes to the
    top level, and only the rest (operators, repeated fields) into ``$and``.
    """
    query: Document = {}
    rest: list[Document] = []
    for condition in conditions:
        if _is_plain(condition) and next(iter(condition)) not in query:
            query.update(condition)
        elif condition:
            rest.append(condition)
    if rest:
        query["$and"] = rest
    return query


def _is_plain(condition: Document) -> bool:
    """``{field: value}``: one field, not an operator, compared with a plain value."""
    if len(condition) != 1:
        return False
    ((field, value),) = condition.items()
    return not field.startswith("$") and not isinstance(value, dict)


async def page_in_id_order(
    collection: AsyncCollection[Document],
    query: Document,
    *,
    limit: int,
    after: str | None,
    projection: Document | None = None,
) -> tuple[list[Document], str | None]:
    """Up to ``limit`` documents of ``query`` in ``_id`` order after the id ``after``, and
    the last one's id when more follow (None on the last page)."""
    if after is not None:
        query = {**query, "_id": {"$gt": after}}
    found: list[Document] = (
        await collection.find(query, projection).sort("_id", ASCENDING).limit(limit + 1).to_list()
    )
    if len(found) > limit:
        return found[:limit], str(found[limit - 1]["_id"])
    return found, None
