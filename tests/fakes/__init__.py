"""In-memory stand-ins for the unit of work: the use cases run on them with no database.

They keep the semantics the use cases rely on (unique keys, insert-or-ignore, commit or
nothing), not SQL: concurrency and locking stay the PostgreSQL tests' job.
"""

from tests.fakes.unit_of_work import FakeDatabase, FakeUnitOfWork

__all__ = ["FakeDatabase", "FakeUnitOfWork"]
