"""The layers' imports: pure packages stay pure, models stay light, services stay shallow.

`ml` and `trends` import neither Flask nor the database. The services' imports are
read from the source (module-level and function-level alike), so an import hidden
inside a function to dodge a cycle counts too.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import app.services

ROOT = Path(__file__).resolve().parent.parent
#: Top-level modules a pure package must not pull in, directly or through another module.
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_babel", "sqlalchemy", "app", "models")

IMPORT_ALL = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if not module.name.endswith(".__main__"):
        importlib.import_module(module.name)
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize("package", ["ml", "trends"])
def test_a_pure_package_imports_no_flask_and_no_database(package):
    loaded = subprocess.run([sys.executable, "-c", IMPORT_ALL, package], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.split()
    assert package in loaded
    assert [name for name in FORBIDDEN if name in loaded] == []


PACKAGE = "app.services"
#: The longest chain of services a newcomer follows, counting the package itself.
MAX_CHAIN = 6


def _module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def _imported(tree: ast.AST, modules: set[str]) -> set[str]:
    """The modules of `modules` that `tree` imports anywhere in its body."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            # `from app.services import users` imports a module, `import NotFound` the package.
            found.update(f"{PACKAGE}.{alias.name}" if f"{PACKAGE}.{alias.name}" in modules
                         else PACKAGE for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found & modules


def import_graph(directory: Path) -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports."""
    paths = {_module_name(path): path for path in directory.glob("*.py")}
    return {name: _imported(ast.parse(path.read_text(encoding="utf-8")), set(paths)) - {name}
            for name, path in paths.items()}


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    """The longest chain of imports; ValueError naming the modules of a cycle."""
    chains: dict[str, list[str]] = {}

    def chain(module: str, path: tuple[str, ...]) -> list[str]:
        if module in path:
            cycle = [*path[path.index(module):], module]
            raise ValueError("import cycle: " + " -> ".join(cycle))
        if module not in chains:
            below = [chain(imported, (*path, module)) for imported in sorted(graph[module])]
            chains[module] = [module, *max(below, key=len, default=[])]
        return chains[module]

    return max((chain(module, ()) for module in sorted(graph)), key=len)


def _services() -> dict[str, set[str]]:
    return import_graph(Path(app.services.__file__).parent)


def test_the_graph_sees_every_kind_of_import():
    graph = _services()
    assert PACKAGE in graph["app.services.users"]  # from app.services import NotFound
    assert "app.services.audit" in graph["app.services.users"]  # from app.services.audit import
    assert "app.services.similarity" in graph["app.services.retention"]


def test_a_function_level_import_that_closes_a_cycle_is_found(tmp_path):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "audit.py").write_text("from app.services.users import find_user\n")
    (tmp_path / "users.py").write_text("def record():\n    from app.services.audit import x\n")
    graph = import_graph(tmp_path)
    assert graph["app.services.users"] == {"app.services.audit"}
    cycle = "cycle: app.services.audit -> app.services.users -> app.services.audit"
    with pytest.raises(ValueError, match=re.escape(cycle)):
        longest_chain(graph)


def test_the_longest_chain_counts_every_module_on_it():
    graph = {"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"c"}}
    assert longest_chain(graph) == ["a", "b", "c"]


def test_services_import_each_other_without_a_cycle_and_at_most_six_deep():
    chain = longest_chain(_services())
    assert len(chain) <= MAX_CHAIN, " -> ".join(chain)


def test_models_take_only_the_label_space_from_ml():
    """models may import ml.categories, which must not pull in scikit-learn."""
    code = ("import sys, models; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ml', 'sklearn')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    assert loaded.strip() == "['ml', 'ml.categories']"


def test_every_command_is_registered_by_register_cli_and_none_by_a_blueprint(app):
    assert sorted(app.cli.commands) == ["alerts", "backup", "db", "demo-data", "export",
                                        "grouping", "jobs", "ml", "permissions", "reports",
                                        "retention", "similarity", "users"]
    assert all(not blueprint.cli.commands for blueprint in app.blueprints.values())
