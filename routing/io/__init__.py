"""Readers and writers: Solomon and Schneider E-VRPTW text files, best-known-solution tables, JSON."""
