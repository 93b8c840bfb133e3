"""The pilots domain and events import no web, database or broker framework.

``ucap_shared.errors`` still imports FastAPI (its HTTP mapping is being moved out
of it): set aside here, so any other road to a framework fails the test.
"""

import grimp
import pytest

FRAMEWORKS = ("fastapi", "starlette", "pymongo", "bson", "aiokafka")
PURE = ("ucap_pilots.domain", "ucap_pilots.events")
SET_ASIDE = "ucap_shared.errors"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    built = grimp.build_graph("ucap_pilots", "ucap_shared", include_external_packages=True)
    if SET_ASIDE in built.modules:
        built.remove_module(SET_ASIDE)
    return built


@pytest.mark.parametrize("pure", PURE)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_import_leads_to_a_framework(
    graph: grimp.ImportGraph, pure: str, framework: str
) -> None:
    if framework not in graph.modules:
        return
    assert graph.chain_exists(importer=pure, imported=framework, as_packages=True) is False
