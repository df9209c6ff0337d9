"""Tenant scoping: every read and write of business rows goes through a `Scope`.

A scope is the lessor (sees and changes its whole business) or one lessee of that lessor (sees and changes only
rows whose `lessee_id` is its own). The rule is one filter on the ownership columns of `OwnedMixin`, applied in
`select_rows` and checked in `add_rows`/`get_row`/`delete_row`, so no page or command can forget it.
Shared reference tables (tariffs, vehicle models, emission factors) are readable in every scope and writable
only by the lessor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from fleet.audit import record_update
from fleet.models import OWNED_TABLES, SHARED_TABLES, Lessee, Lessor

T = TypeVar("T", bound=SQLModel)


class ScopeError(PermissionError):
    """A row outside the scope was asked for or written; the message says which."""


@dataclass(frozen=True)
class Scope:
    """Who is acting: `lessee_id=None` means the lessor's own view of its whole business."""

    lessor_id: int
    lessee_id: int | None = None

    @classmethod
    def lessor(cls, lessor_id: int) -> Scope:
        return cls(lessor_id=lessor_id)

    @classmethod
    def lessee(cls, lessor_id: int, lessee_id: int) -> Scope:
        return cls(lessor_id=lessor_id, lessee_id=lessee_id)

    @property
    def is_lessor(self) -> bool:
        return self.lessee_id is None

    def describe(self) -> str:
        return (
            f"lessor {self.lessor_id}"
            if self.is_lessor
            else f"lessee {self.lessee_id} of lessor {self.lessor_id}"
        )


def scope_for(session: Session, *, lessor_code: str | None = None, lessee_code: str | None = None) -> Scope:
    """Resolve a scope from codes (CLI `--lessee`, app configuration). A lessee code alone implies its lessor."""
    if lessee_code:
        lessee = session.exec(select(Lessee).where(Lessee.code == lessee_code)).first()
        if lessee is None:
            raise ScopeError(f"unknown lessee code {lessee_code!r}")
        return Scope.lessee(lessee.lessor_id, lessee.id)  # type: ignore[arg-type]
    query = select(Lessor)
    if lessor_code:
        query = query.where(Lessor.code == lessor_code)
    lessors = session.exec(query).all()
    if not lessors:
        raise ScopeError(
            f"unknown lessor code {lessor_code!r}" if lessor_code else "the database has no lessor yet"
        )
    if len(lessors) > 1:
        raise ScopeError("several lessors in this database: name one with --lessor")
    return Scope.lessor(lessors[0].id)  # type: ignore[arg-type]


def _is_owned(model: type[SQLModel]) -> bool:
    return model in OWNED_TABLES


def _ownership_clause(model: type[SQLModel], scope: Scope) -> Any:
    if model is Lessor:
        return Lessor.id == scope.lessor_id
    if model is Lessee:
        clause = Lessee.lessor_id == scope.lessor_id
        return clause if scope.is_lessor else sa.and_(clause, Lessee.id == scope.lessee_id)
    if _is_owned(model):
        clause = model.lessor_id == scope.lessor_id  # type: ignore[attr-defined]
        return clause if scope.is_lessor else sa.and_(clause, model.lessee_id == scope.lessee_id)  # type: ignore[attr-defined]
    if model in SHARED_TABLES:
        return sa.true()
    raise ScopeError(f"{model.__name__} is not registered as owned or shared in fleet.models")


def select_rows(scope: Scope, model: type[T], *where: Any) -> Any:
    """A `select(model)` already restricted to the scope; add filters, ordering and joins to it."""
    return select(model).where(_ownership_clause(model, scope), *where)


def list_rows(session: Session, scope: Scope, model: type[T], *where: Any, order_by: Any = None) -> list[T]:
    query = select_rows(scope, model, *where)
    query = query.order_by(order_by if order_by is not None else model.id)  # type: ignore[attr-defined]
    return list(session.exec(query).all())


def get_row(session: Session, scope: Scope, model: type[T], row_id: int) -> T:
    """The row with this id, or `ScopeError` if it does not exist *or* lies outside the scope (same message,
    so a lessee cannot probe which ids other lessees have)."""
    row = session.exec(select_rows(scope, model, model.id == row_id)).first()  # type: ignore[attr-defined]
    if row is None:
        raise ScopeError(f"{model.__name__} {row_id} not found in the scope of {scope.describe()}")
    return row


def check_writable(scope: Scope, row: SQLModel) -> None:
    """Refuse a write of a row the scope does not own (or of shared reference data by a lessee)."""
    model = type(row)
    if model in SHARED_TABLES or model == Lessor:
        if not scope.is_lessor:
            raise ScopeError(f"{scope.describe()} may not write {model.__name__} (shared reference data)")
        return
    if model is Lessee:
        if row.lessor_id != scope.lessor_id or (not scope.is_lessor and row.id != scope.lessee_id):  # type: ignore[attr-defined]
            raise ScopeError(f"{scope.describe()} may not write lessee {row.id}")  # type: ignore[attr-defined]
        return
    if not _is_owned(model):
        raise ScopeError(f"{model.__name__} is not registered as owned or shared in fleet.models")
    if row.lessor_id != scope.lessor_id:  # type: ignore[attr-defined]
        raise ScopeError(f"{model.__name__} row belongs to lessor {row.lessor_id}, not to {scope.describe()}")  # type: ignore[attr-defined]
    if not scope.is_lessor and row.lessee_id != scope.lessee_id:  # type: ignore[attr-defined]
        raise ScopeError(
            f"{model.__name__} row belongs to lessee {row.lessee_id}, not to {scope.describe()}"  # type: ignore[attr-defined]
        )


def add_rows(session: Session, scope: Scope, rows: Iterable[SQLModel]) -> list[SQLModel]:
    """Add rows after checking each is writable in the scope; nothing is added if one is refused."""
    rows = list(rows)
    for row in rows:
        check_writable(scope, row)
    session.add_all(rows)
    return rows


def update_row(session: Session, scope: Scope, model: type[T], row_id: int, **changes: Any) -> T:
    """Change fields of a row in scope; moving a row to another owner is refused."""
    row = get_row(session, scope, model, row_id)
    for forbidden in ("id", "lessor_id", "lessee_id"):
        changed = forbidden in changes and changes[forbidden] != getattr(row, forbidden, None)
        if changed and not (scope.is_lessor and forbidden == "lessee_id"):
            raise ScopeError(f"{scope.describe()} may not change {model.__name__}.{forbidden}")
    for name in changes:
        if name not in model.model_fields:
            raise ValueError(f"{model.__name__} has no field {name!r}")
    before = {name: getattr(row, name) for name in changes}
    for name, value in changes.items():
        setattr(row, name, value)
    check_writable(scope, row)
    session.add(row)
    record_update(session, row, before)  # audited tables only (fleet.audit.AUDITED)
    return row


def delete_row(session: Session, scope: Scope, model: type[T], row_id: int) -> None:
    row = get_row(session, scope, model, row_id)
    check_writable(scope, row)
    session.delete(row)


def owned_models() -> Sequence[type[SQLModel]]:
    """Every table with a lessee owner, for tests and exports that must cover them all."""
    return OWNED_TABLES
