"""Which database failures are transient: the same work, tried again later, may succeed.

A lost connection, a timeout, a serialization failure or a deadlock says nothing about
the work itself; a constraint violation or a bug does. Callers retry the first kind
quietly and treat the second as something a person must look at.
"""

from __future__ import annotations

import asyncpg
import sqlalchemy.exc

# SQLSTATE classes and codes that mean "try again" (PostgreSQL, appendix A).
_TRANSIENT_CLASSES = ("08",)  # connection exception
_TRANSIENT_CODES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "57014",  # query_canceled (statement timeout)
        "57P01",  # admin_shutdown (pg_terminate_backend, a failover)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now
        "53300",  # too_many_connections
    }
)
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection in time
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,  # e.g. "connection is closed"
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.QueryCanceledError,
    ConnectionError,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """True when the failure is the database's state, not the work's: retry it later."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _TRANSIENT_TYPES):
            return True
        code = getattr(current, "sqlstate", None)
        if isinstance(code, str) and (code in _TRANSIENT_CODES or code[:2] in _TRANSIENT_CLASSES):
            return True
        # SQLAlchemy keeps the driver's error in .orig, and the driver chains its own.
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def describe(exc: BaseException, limit: int = 500) -> str:
    """A one-line account of the failure that fits the event's last_error column."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:limit]


# For the one error-to-status table (app/routers/problems.py), which must not import
# SQLAlchemy: a driver error, and the ones that mean the database can't be reached.
DriverError = sqlalchemy.exc.DBAPIError
DRIVER_UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection in time
)
