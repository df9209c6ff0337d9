"""The charging station management system: OCPP 1.6J / 2.0.1 chargers receive tonight's plan as charging
profiles, and their meter values come back as sessions, deviation alerts and re-plans (docs/ocpp.md).

Modules: `adapter` (the seam every charger protocol implements), `hub` (protocol-agnostic core),
`ocpp_adapter` (OCPP over WebSocket), `profiles` (plans <-> OCPP profiles, pure), `deviation` (alerts, pure),
`simulator` (chargers for tests and demos), `scenario` (a night from charging types), `store` (the database).
"""
