"""The lessor's fleet as a virtual power plant: flexibility per depot and zone, event dispatch, settlement.

`nights` loads tonight's stored plans with each lease's V2G consent, `flex` aggregates per grid zone, `settlement`
measures the response against a baseline and splits the revenue per lease, `synthetic` and `scale` build synthetic
lessors for the benchmarks (docs/vpp.md, docs/scale.md). The maths lives in `charging.flexibility` and
`charging.dispatch`.
"""
