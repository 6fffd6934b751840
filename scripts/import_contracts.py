"""An import-linter contract type that the built-in ones lack: no import cycle among modules, at any depth.

`acyclic_siblings` squashes each package into one node per child, so it cannot see a module that imports
its own package's `__init__` while that `__init__` imports it back (`text/__init__` -> `frontend` -> `g2p`
-> `from openvoice_tt.text import X`): both ends lie inside the same child. This contract takes the graph
of modules as it is, package `__init__`s included, and is broken by every strongly connected component of
two or more modules, naming the imports that close it. pyproject.toml registers it (`contract_types`);
`lint-imports` loads it from the repository root, where scripts/test.sh runs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicModulesContract(Contract):
    """Options: `packages`, the packages whose modules (all of them, at any depth) may form no cycle."""

    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        roots = list(self.packages)  # type: ignore[arg-type]
        modules = sorted(m for m in graph.modules if any(m == r or m.startswith(r + ".") for r in roots))
        inside = set(modules)
        imports = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
        cycles = []
        for component in strongly_connected(modules, imports):
            members = set(component)
            cycles.append(
                [
                    (importer, imported, _lines(graph, importer, imported))
                    for importer in sorted(component)
                    for imported in imports[importer]
                    if imported in members
                ]
            )
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for edges in check.metadata["cycles"]:
            modules = sorted({module for edge in edges for module in edge[:2]})
            output.print_error(f"Import cycle among {', '.join(modules)}:")
            output.new_line()
            for importer, imported, lines in edges:
                output.print_error(f"- {importer} -> {imported} ({', '.join(f'l.{n}' for n in lines)})")
            output.new_line()


def _lines(graph, importer: str, imported: str) -> list[int]:
    return sorted(d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported))


def strongly_connected(nodes: Sequence[str], edges: Mapping[str, Sequence[str]]) -> Iterator[list[str]]:
    """The strongly connected components of two or more nodes (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges[succ])))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        yield sorted(component)
