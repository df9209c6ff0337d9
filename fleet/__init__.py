"""evfleet business layer: schema, database, leases, emissions, the nightly pipeline and the CLI."""

__version__ = "0.1.0"
