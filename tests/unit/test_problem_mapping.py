"""Every domain and service error has an HTTP status in problems.py's table: an error
left out would reach a client as a 500."""

from __future__ import annotations

import importlib
import pkgutil

import app
from app.domain.errors import DomainError
from app.routers.problems import domain_problem
from app.services.errors import ResourceNotFound
from app.services.orders import NotAPublicAdministration


def _all_subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def every_domain_error() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if not module.name.startswith("app.sandbox.__main__"):
            importlib.import_module(module.name)
    return _all_subclasses(DomainError)


def status(error: type[DomainError]) -> int | None:
    rule = domain_problem(error)
    return None if rule is None else rule[0]


def test_every_domain_error_in_the_app_has_a_status_below_500_or_a_deliberate_503() -> None:
    errors = every_domain_error()
    assert len(errors) > 20  # the walk found the app's errors
    statuses = {cls.__name__: status(cls) for cls in errors}
    assert sorted(name for name, found in statuses.items() if found is None) == []
    assert {found for found in statuses.values() if found and found >= 500} == {503}


def test_an_error_is_mapped_by_its_most_specific_class() -> None:
    assert issubclass(NotAPublicAdministration, ResourceNotFound)
    assert status(ResourceNotFound) == 404
    assert status(NotAPublicAdministration) == 409


def test_the_bare_base_class_is_not_mapped() -> None:
    assert status(DomainError) is None
