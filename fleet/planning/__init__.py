"""Depot-day planning: database inputs -> routing and charging problems -> plans."""
