SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN ($7::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != $6::VARCHAR
-- next statement
SELECT alembic_version.version_num
FROM alembic_version
-- next statement
SELECT to_regclass('alc_meta')
-- next statement
SELECT value FROM alc_meta WHERE key = 'backend'
-- next statement
DROP FUNCTION IF EXISTS drop_old_partitions(text, integer)
-- next statement
DROP FUNCTION IF EXISTS alc_ensure_partition(text, timestamptz)
-- next statement
DROP FUNCTION IF EXISTS create_partition_range(text, timestamptz, timestamptz)
-- next statement
DROP VIEW IF EXISTS hypertable_stats
-- next statement
DROP VIEW IF EXISTS partition_info
-- next statement
DROP MATERIALIZED VIEW IF EXISTS stock_data_1min
-- next statement
DROP MATERIALIZED VIEW IF EXISTS market_data_5min
-- next statement
DROP MATERIALIZED VIEW IF EXISTS market_data_1min
-- next statement
DROP TABLE stock_bars
-- next statement
DROP TABLE option_bars
-- next statement
DROP TABLE stock_data_ticks
-- next statement
DROP TABLE market_data_ticks
-- next statement
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0003'
