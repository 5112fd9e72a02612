"""No import cycles: the graph of every import in app.py, explorer/, models/, training/, bench/ and
tools/, read with `ast` (imports at the top of a module and those inside functions alike; relative
imports resolved), has no cycle.

A cycle is what made imports hide inside functions; one that works today breaks when someone
moves an import to the top. The edges are the imports as written: `import a.b` also runs
a/__init__.py, but a package that is being initialized is already importable, so those implicit
edges would only report cycles that Python does not have (explorer/__init__.py imports the
views, which import explorer.core). tools/ is a folder of scripts that bench/ puts on sys.path,
so its modules are named by their file name (`import screenshots`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

FOLDERS = ("explorer", "models", "training", "bench", "tools")
SCRIPT_FOLDERS = ("tools",)  # on sys.path, not packages


def module_files(repo: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> file, for every module the graph covers."""
    files = {"app": repo / "app.py"}
    for folder in FOLDERS:
        for path in sorted((repo / folder).rglob("*.py")):
            parts = list(path.relative_to(repo).with_suffix("").parts)
            if parts[0] in SCRIPT_FOLDERS:
                parts = parts[1:]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module that module `name` (its file: `path`) imports, anywhere in it, as an absolute
    name: `from package import module` names the module when it is one of `known`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - (node.level - 1)], *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found - {name}


def import_graph(repo: Path = REPO) -> dict[str, set[str]]:
    """Module -> the modules of the graph it imports."""
    files = module_files(repo)
    return {name: imported(name, path, set(files)) & set(files) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[tuple[set[str], list[str]]]:
    """Each strongly connected component of more than one module (Tarjan's algorithm, iterative),
    with one cycle through it (a -> b -> ... -> a)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return [(component, cycle_within(graph, component)) for component in components]


def cycle_within(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first), as a path a -> ... -> a."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in the component {sorted(component)}")


def test_the_graph_sees_relative_function_level_and_package_imports():
    graph = import_graph()
    assert "models.runtime" in graph["app"]
    assert "explorer" in graph and "models.floors" in graph
    # models/runtime.py imports .encoder inside a function (torch only when a model is loaded)
    assert "models.encoder" in graph["models.runtime"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [({"a", "b", "c"}, ["a", "b", "c", "a"])]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    found = list(cycles(import_graph()))
    assert not found, "import cycles:\n" + "\n".join(
        f"{' -> '.join(cycle)}  (modules in the cycles: {', '.join(sorted(members))})" for members, cycle in found
    )


def test_core_imports_neither_gradio_nor_torch_nor_the_layers_above_it():
    """explorer/core/ is what the views compute with: no Gradio, no torch, nothing of web/ or views/."""
    files = module_files()
    for name, path in files.items():
        if name.startswith("explorer.core"):
            roots = {m.split(".")[0] for m in imported(name, path, set(files))}
            above = {m for m in imported(name, path, set(files)) if m.startswith(("explorer.web", "explorer.views"))}
            assert not roots & {"gradio", "torch", "transformers"} and not above, (name, roots, above)


def test_explorer_and_models_share_no_file_name():
    """A name says which floor a file is on: `rollout` is models/rollout.py, its section in the
    Self-attention tab is rollout_section.py."""
    names = {
        folder: {p.name for p in (REPO / folder).rglob("*.py")} - {"__init__.py"} for folder in ("explorer", "models")
    }
    assert not names["explorer"] & names["models"]


DOOR = "explorer.web.gradio_internals"  # the one module that may read Gradio's internals
# Gradio names that are not its public API (gr.*), as this app has used them.
GRADIO_INTERNALS = {"fns", "constructor_args", "config_for_block", "BlocksConfig", "PlotData", "GradioModel",
                    "GradioRootModel", "route_utils", "__type__"}  # fmt: skip


def gradio_submodules() -> set[str]:
    """gr.<name>s that are submodules (gr.blocks, gr.components, ...), but for gr.themes: public."""
    import types

    import gradio

    return {n for n, v in vars(gradio).items() if isinstance(v, types.ModuleType)} - {"themes"}


def internals_used(path: Path) -> list[str]:
    """What a module's code touches of Gradio's internals: a submodule import (`from gradio.x
    import`, `import gradio.x`, `gr.x.Name`), a name of GRADIO_INTERNALS (as an attribute, a
    name or a string), a private attribute of anything but self or cls, a class swapped on an object."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [f"{line}: import {a.name}" for a in node.names if a.name.startswith("gradio.")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gradio."):
            found.append(f"{line}: from {node.module} import")
        elif isinstance(node, ast.Attribute):
            attr, owner = node.attr, node.value
            of_self = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            of_gradio = isinstance(owner, ast.Name) and owner.id in ("gr", "gradio")
            if attr in GRADIO_INTERNALS or (of_gradio and attr in gradio_submodules()):
                found.append(f"{line}: .{attr}")
            elif attr.startswith("_") and not attr.startswith("__") and not of_self:
                found.append(f"{line}: private .{attr}")
            elif attr == "__class__" and isinstance(getattr(node, "ctx", None), ast.Store):
                found.append(f"{line}: .__class__ =")
        elif isinstance(node, ast.Name) and node.id in GRADIO_INTERNALS:
            found.append(f"{line}: {node.id}")
        elif isinstance(node, ast.Constant) and node.value in GRADIO_INTERNALS:
            found.append(f"{line}: {node.value!r}")
    return found


def test_only_the_door_module_reads_gradios_internals():
    """Issue 24: every use of a Gradio submodule or private name lives in explorer/web/gradio_internals.py,
    behind its version check and switch; the rest of the app uses gr.* only."""
    files = module_files()
    uses = {}
    for name, path in files.items():
        if name != DOOR and "gradio" in {m.split(".")[0] for m in imported(name, path, set(files))}:
            if found := internals_used(path):
                uses[name] = found
    assert not uses, uses
    assert internals_used(files[DOOR])  # the check sees what the door does


def test_the_internals_check_sees_each_kind_of_use(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import gradio.blocks\nfrom gradio.data_classes import GradioModel\nimport gradio as gr\n"
        "x = gr.blocks.Block\nblocks.fns\nc.__class__ = int\nd = {'__type__': 'update'}\nb._id\nself._own\n"
    )
    kinds = [use.split(": ", 1)[1] for use in internals_used(sample)]
    assert sorted(kinds) == sorted(["import gradio.blocks", "from gradio.data_classes import", ".blocks", ".fns",
                                    ".__class__ =", "'__type__'", "private ._id"])  # fmt: skip
