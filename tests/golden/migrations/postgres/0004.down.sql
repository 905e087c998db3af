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
CREATE OR REPLACE FUNCTION alc_ensure_partition(tbl text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    period text := alc_partition_period(tbl);
    lo timestamp;
    part text;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    lo := date_trunc(period, at AT TIME ZONE 'UTC');
    part := tbl || '_p' || to_char(lo, CASE period WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END);
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Two writers may want the same new partition: serialise them on its name.
    PERFORM pg_advisory_xact_lock(hashtext(part));
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
        part, tbl,
        lo AT TIME ZONE 'UTC',
        (lo + ('1 ' || period)::interval) AT TIME ZONE 'UTC'
    );
    RETURN true;
END
$$
-- next statement
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0004'
