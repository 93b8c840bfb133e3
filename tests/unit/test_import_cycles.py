"""No module of ucap imports, however indirectly, a module that imports it."""

import graphlib

import grimp

PACKAGES = (
    "ucap_shared",
    "ucap_cities",
    "ucap_mous",
    "ucap_pilots",
    "ucap_reporting",
    "ucap_gateway",
    "ucap_ops",
)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Each cycle found, one import of it set aside before looking for the next."""
    imports = {
        module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules
    }
    found: list[list[str]] = []
    while True:
        try:
            graphlib.TopologicalSorter(imports).prepare()
        except graphlib.CycleError as error:
            # Each module of the cycle is one the next imports.
            cycle: list[str] = error.args[1]
            found.append(cycle)
            imports[cycle[1]].remove(cycle[0])
        else:
            return found


class TestImportCycles:
    def test_there_is_none(self) -> None:
        graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)

        assert cycles(graph) == []

    def test_one_made_on_purpose_is_found_even_inside_a_function(self) -> None:
        graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
        graph.add_import(
            importer="ucap_shared.dates",
            imported="ucap_shared.app",
            line_number=1,
            line_contents="",
        )

        assert any(
            {"ucap_shared.dates", "ucap_shared.app"} <= set(cycle) for cycle in cycles(graph)
        )
