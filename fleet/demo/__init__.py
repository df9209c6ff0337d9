"""The Shenzhen demo data set: `build` writes `data/demo/*.csv` from a seed, `load` puts them into a database.

The CSV files themselves are data, shipped in the `evfleet_data` package (`evfleet_data.DEMO_DIR`).
"""
