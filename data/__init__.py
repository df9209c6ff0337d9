"""The Shenzhen demo data set (CSV files) and the sourced reference data evfleet ships with."""
