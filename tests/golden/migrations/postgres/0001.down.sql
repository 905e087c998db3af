SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN ($7::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != $6::VARCHAR
-- next statement
SELECT alembic_version.version_num
FROM alembic_version
-- next statement
DROP INDEX ix_data_quality_metrics_run_id
-- next statement
DROP INDEX ix_data_quality_metrics_check_timestamp
-- next statement
DROP TABLE data_quality_metrics
-- next statement
DROP INDEX ix_arbitrage_opportunities_underlying_id
-- next statement
DROP INDEX ix_arbitrage_opportunities_strategy_type
-- next statement
DROP TABLE arbitrage_opportunities
-- next statement
DROP INDEX ix_option_chains_expiration_date
-- next statement
DROP TABLE option_chains
-- next statement
DROP INDEX ix_market_events_event_date
-- next statement
DROP TABLE market_events
-- next statement
DROP INDEX ix_corporate_actions_underlying_id
-- next statement
DROP TABLE corporate_actions
-- next statement
DROP TABLE underlying_securities
-- next statement
DROP TABLE history_requests
-- next statement
DROP TABLE backtest_runs
-- next statement
DROP TABLE alc_meta
-- next statement
DELETE FROM alembic_version WHERE alembic_version.version_num = '0001'
