"""The REST API (FastAPI): orders in, plans out, metered records in, emissions out, job status."""

from fleet.api.app import create_app
from fleet.api.keys import issue_key, revoke_key

__all__ = ["create_app", "issue_key", "revoke_key"]
