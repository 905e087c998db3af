"""alc-data tests."""
