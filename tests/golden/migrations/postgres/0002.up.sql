SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relname IN ($7::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != $6::VARCHAR
-- next statement
SELECT alembic_version.version_num
FROM alembic_version
-- next statement
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'
-- next statement
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'
-- next statement
SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'
-- next statement
SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'
-- next statement
INSERT INTO alc_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
-- next statement
UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001'
