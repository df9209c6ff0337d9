"""Pure EV routing on OR-Tools: typed problem in, typed solution out; no database, no UI."""
