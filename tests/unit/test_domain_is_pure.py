"""app/domain is pure: it imports only the standard library, stdnum and itself.

An allow-list rather than a list of forbidden frameworks: a new dependency (an HTTP client,
an ORM, a settings library, the service layer) fails here without anyone having to name it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import app.domain

DOMAIN_PACKAGE = "app.domain"
THIRD_PARTY_ALLOWED = frozenset({"stdnum"})  # tax code and VAT number checks
DOMAIN_DIR = Path(app.domain.__file__).resolve().parent


def _package_of(source: Path, domain_dir: Path, domain_package: str) -> str:
    """The dotted package a file in the domain tree belongs to, for relative imports."""
    parts = source.resolve().parent.relative_to(domain_dir).parts
    return ".".join((domain_package, *parts))


def imported_modules(
    source: Path, domain_dir: Path = DOMAIN_DIR, domain_package: str = DOMAIN_PACKAGE
) -> set[str]:
    """Every module a file imports, absolute and dotted, wherever the import statement is.

    `from x import y` counts as `x.y`: y may be a module, and `from app import services`
    must not pass as an import of `app`.
    """
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(source, domain_dir, domain_package).split(".")
                anchor = ".".join(package[: len(package) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            modules.update(f"{base}.{alias.name}" for alias in node.names)
    return modules


def is_allowed(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in THIRD_PARTY_ALLOWED:
        return True
    return module.startswith(DOMAIN_PACKAGE + ".")


def domain_files() -> list[Path]:
    return sorted(DOMAIN_DIR.rglob("*.py"))


def test_domain_files_are_found() -> None:
    files = domain_files()
    assert files
    assert DOMAIN_DIR / "quote.py" in files


def test_domain_imports_only_the_standard_library_stdnum_and_itself() -> None:
    offenders = {
        str(path.relative_to(DOMAIN_DIR)): sorted(
            module for module in imported_modules(path) if not is_allowed(module)
        )
        for path in domain_files()
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_the_import_walker_sees_nested_dotted_and_relative_imports(tmp_path: Path) -> None:
    domain = tmp_path / "domain"
    (domain / "sub").mkdir(parents=True)
    sample = domain / "sub" / "sample.py"
    sample.write_text(
        "import os\n"
        "def f():\n"
        "    import sqlalchemy.orm as orm\n"
        "    from pydantic.fields import Field\n"
        "from . import sibling\n"
        "from ..money import Money\n"
        "from app import services\n"
    )
    assert imported_modules(sample, domain, "app.domain") == {
        "os",
        "sqlalchemy.orm",
        "pydantic.fields.Field",
        "app.domain.sub.sibling",
        "app.domain.money.Money",
        "app.services",
    }


def test_the_allow_list_admits_the_standard_library_stdnum_and_the_domain_only() -> None:
    allowed = ["datetime.date", "collections.abc.Iterable", "stdnum.it.codicefiscale"]
    allowed += ["app.domain.money.Money", "__future__.annotations"]
    refused = ["app.services", "app.db.models", "app.settings", "httpx", "fastapi.FastAPI"]
    refused += ["pydantic.BaseModel", "sqlalchemy.orm", "app"]
    assert [module for module in allowed if not is_allowed(module)] == []
    assert [module for module in refused if is_allowed(module)] == []
