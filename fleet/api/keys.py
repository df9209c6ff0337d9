"""API keys: issued once, stored as SHA-256 only, each bound to the lessor's scope or one lessee's."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlmodel import Session, select

from fleet.models import ApiKey, Lessee
from fleet.scope import Scope, ScopeError, scope_for

PREFIX_LEN = 12


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_key(
    session: Session, name: str, *, lessee_code: str | None = None, lessor_code: str | None = None
) -> str:
    """A new key for the lessee named (or the lessor); returns the secret, which is not stored and cannot be
    shown again. The caller commits."""
    scope = scope_for(session, lessor_code=lessor_code, lessee_code=lessee_code)
    secret = "evk_" + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            lessor_id=scope.lessor_id,
            lessee_id=scope.lessee_id,
            name=name,
            prefix=secret[:PREFIX_LEN],
            key_sha256=digest(secret),
        )
    )
    session.flush()
    return secret


def revoke_key(session: Session, prefix: str) -> int:
    rows = session.exec(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))).all()  # type: ignore[union-attr]
    for row in rows:
        row.revoked_at = dt.datetime.now(dt.UTC)
        session.add(row)
    return len(rows)


def scope_of_key(session: Session, secret: str) -> tuple[ApiKey, Scope]:
    """The key and its scope; ScopeError for an unknown or revoked key (one message for both)."""
    row = session.exec(select(ApiKey).where(ApiKey.key_sha256 == digest(secret))).first()
    if row is None or row.revoked_at is not None:
        raise ScopeError("unknown or revoked API key")
    if row.lessee_id is not None and session.get(Lessee, row.lessee_id) is None:
        raise ScopeError("unknown or revoked API key")
    return row, Scope(row.lessor_id, row.lessee_id)
