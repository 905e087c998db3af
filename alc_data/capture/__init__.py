"""What the two capture paths (the real-time collector and the history loader) share:
registering a discovered universe of contracts in the database."""
