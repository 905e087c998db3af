-- Runs once, when the container initialises an empty data directory.
-- The migrations would create the extension too; creating it here, as the superuser, lets the
-- database owner (trading_user) run them without extra privileges.
CREATE EXTENSION IF NOT EXISTS timescaledb;
