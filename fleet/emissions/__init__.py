"""Avoided emissions of leased electric trucks: methodology profiles, per vehicle-day calculation,
data-quality screening, attribution and per-party reports. Pure functions; the database is read elsewhere."""
