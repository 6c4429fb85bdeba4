"""The pure packages stay pure: `ml` and `trends` import neither Flask nor the database."""

import subprocess
import sys
from pathlib import Path

import pytest

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
