"""app/domain is pure: no web framework, ORM, validation library or network client."""

from __future__ import annotations

import ast
from pathlib import Path

import app.domain

FORBIDDEN = {"fastapi", "sqlalchemy", "pydantic", "httpx", "asyncpg", "starlette", "alembic"}
DOMAIN_DIR = Path(app.domain.__file__).resolve().parent


def imported_top_level_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def domain_files() -> list[Path]:
    return sorted(DOMAIN_DIR.rglob("*.py"))


def test_domain_files_are_found():
    files = domain_files()
    assert files
    assert DOMAIN_DIR / "quote.py" in files


def test_domain_imports_no_framework_database_or_network_library():
    offenders = {
        str(path.relative_to(DOMAIN_DIR)): sorted(imported_top_level_modules(path) & FORBIDDEN)
        for path in domain_files()
    }
    offenders = {name: mods for name, mods in offenders.items() if mods}
    assert offenders == {}


def test_the_import_walker_sees_nested_and_dotted_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "def f():\n"
        "    import sqlalchemy.orm as orm\n"
        "    from pydantic.fields import Field\n"
        "from . import sibling\n"
    )
    assert imported_top_level_modules(sample) == {"os", "sqlalchemy", "pydantic"}
