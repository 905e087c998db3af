"""Shared test helpers and fixtures: tests import these and alc_data, never each other."""
