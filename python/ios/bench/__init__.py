"""Benchmarks that print tables (not tests): schedules of the zoo networks,
host API calls of CUDA programs on the device emulator."""
