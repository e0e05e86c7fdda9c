"""Benchmarks that print tables (not tests): schedules of the zoo networks."""
