"""Pure depot charging optimisation on OR-Tools: typed scenario in, schedule out; no database, no UI."""
