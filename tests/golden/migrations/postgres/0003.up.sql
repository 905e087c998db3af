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
CREATE TABLE market_data_ticks (
	contract_id BIGINT NOT NULL,
	time TIMESTAMP WITH TIME ZONE NOT NULL,
	bid_price DOUBLE PRECISION,
	ask_price DOUBLE PRECISION,
	last_price DOUBLE PRECISION,
	bid_size BIGINT,
	ask_size BIGINT,
	last_size BIGINT,
	volume BIGINT,
	open_interest BIGINT,
	implied_volatility DOUBLE PRECISION,
	delta DOUBLE PRECISION,
	gamma DOUBLE PRECISION,
	theta DOUBLE PRECISION,
	vega DOUBLE PRECISION,
	rho DOUBLE PRECISION,
	underlying_price DOUBLE PRECISION,
	tick_type VARCHAR(16) DEFAULT 'REALTIME' NOT NULL,
	mid_price DOUBLE PRECISION GENERATED ALWAYS AS ((bid_price + ask_price) / 2) STORED,
	bid_ask_spread DOUBLE PRECISION GENERATED ALWAYS AS (ask_price - bid_price) STORED,
	CONSTRAINT pk_market_data_ticks PRIMARY KEY (contract_id, time),
	CONSTRAINT ck_market_data_ticks_tick_type CHECK (tick_type IN ('REALTIME', 'DELAYED', 'FROZEN', 'SNAPSHOT')),
	CONSTRAINT fk_market_data_ticks_contract_id_option_chains FOREIGN KEY(contract_id) REFERENCES option_chains (id)
)
 PARTITION BY RANGE (time)
-- next statement
CREATE TABLE stock_data_ticks (
	underlying_id BIGINT NOT NULL,
	time TIMESTAMP WITH TIME ZONE NOT NULL,
	price DOUBLE PRECISION,
	bid_price DOUBLE PRECISION,
	ask_price DOUBLE PRECISION,
	bid_size DOUBLE PRECISION,
	ask_size DOUBLE PRECISION,
	volume DOUBLE PRECISION,
	vwap DOUBLE PRECISION,
	tick_type VARCHAR(16) DEFAULT 'REALTIME' NOT NULL,
	CONSTRAINT pk_stock_data_ticks PRIMARY KEY (underlying_id, time),
	CONSTRAINT ck_stock_data_ticks_tick_type CHECK (tick_type IN ('REALTIME', 'DELAYED', 'FROZEN', 'SNAPSHOT')),
	CONSTRAINT fk_stock_data_ticks_underlying_id_underlying_securities FOREIGN KEY(underlying_id) REFERENCES underlying_securities (id)
)
 PARTITION BY RANGE (time)
-- next statement
CREATE TABLE option_bars (
	contract_id BIGINT NOT NULL,
	what_to_show VARCHAR(32) NOT NULL,
	bar_size VARCHAR(16) NOT NULL,
	time TIMESTAMP WITH TIME ZONE NOT NULL,
	open DOUBLE PRECISION,
	high DOUBLE PRECISION,
	low DOUBLE PRECISION,
	close DOUBLE PRECISION,
	volume DOUBLE PRECISION,
	wap DOUBLE PRECISION,
	bar_count INTEGER,
	CONSTRAINT pk_option_bars PRIMARY KEY (contract_id, what_to_show, bar_size, time),
	CONSTRAINT fk_option_bars_contract_id_option_chains FOREIGN KEY(contract_id) REFERENCES option_chains (id)
)
 PARTITION BY RANGE (time)
-- next statement
CREATE TABLE stock_bars (
	underlying_id BIGINT NOT NULL,
	what_to_show VARCHAR(32) NOT NULL,
	bar_size VARCHAR(16) NOT NULL,
	time TIMESTAMP WITH TIME ZONE NOT NULL,
	open DOUBLE PRECISION,
	high DOUBLE PRECISION,
	low DOUBLE PRECISION,
	close DOUBLE PRECISION,
	volume DOUBLE PRECISION,
	wap DOUBLE PRECISION,
	bar_count INTEGER,
	CONSTRAINT pk_stock_bars PRIMARY KEY (underlying_id, what_to_show, bar_size, time),
	CONSTRAINT fk_stock_bars_underlying_id_underlying_securities FOREIGN KEY(underlying_id) REFERENCES underlying_securities (id)
)
 PARTITION BY RANGE (time)
-- next statement
CREATE FUNCTION alc_partition_period(tbl text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE tbl
        WHEN 'market_data_ticks' THEN 'day'
        WHEN 'stock_data_ticks' THEN 'day'
        WHEN 'option_bars' THEN 'month'
        WHEN 'stock_bars' THEN 'month'
        WHEN 'market_data_1min' THEN 'month'
        WHEN 'market_data_5min' THEN 'month'
        WHEN 'stock_data_1min' THEN 'month'
    END
$$
-- next statement
CREATE FUNCTION alc_ensure_partition(tbl text, at timestamptz) RETURNS boolean
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
CREATE FUNCTION create_partition_range(tbl text, start_at timestamptz, end_at timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    period text := alc_partition_period(tbl);
    at timestamp;
    created integer := 0;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    IF end_at < start_at THEN
        RAISE EXCEPTION 'end % is before start %', end_at, start_at USING ERRCODE = '22023';
    END IF;
    at := date_trunc(period, start_at AT TIME ZONE 'UTC');
    WHILE at <= end_at AT TIME ZONE 'UTC' LOOP
        IF alc_ensure_partition(tbl, at AT TIME ZONE 'UTC') THEN
            created := created + 1;
        END IF;
        at := at + ('1 ' || period)::interval;
    END LOOP;
    RETURN created;
END
$$
-- next statement
CREATE FUNCTION drop_old_partitions(tbl text, keep_months integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz;
    r record;
    dropped integer := 0;
BEGIN
    IF alc_partition_period(tbl) IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    IF keep_months IS NULL OR keep_months < 0 THEN
        RAISE EXCEPTION 'keep_months must be >= 0, got %', keep_months USING ERRCODE = '22023';
    END IF;
    -- Keep the current month and the keep_months months before it.
    cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC')
               - make_interval(months => keep_months)) AT TIME ZONE 'UTC';
    FOR r IN
        SELECT c.oid::regclass AS part, (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = tbl::regclass
    LOOP
        IF r.upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %s', r.part);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END
$$
-- next statement
CREATE TABLE market_data_1min (
    bucket timestamptz NOT NULL,
    contract_id bigint NOT NULL,
    open double precision, high double precision, low double precision,
    close double precision, bid double precision, ask double precision,
    spread_avg double precision, volume bigint, open_interest bigint,
    implied_volatility double precision, underlying_price double precision,
    tick_count bigint NOT NULL,
    CONSTRAINT pk_market_data_1min PRIMARY KEY (contract_id, bucket)
) PARTITION BY RANGE (bucket)
-- next statement
CREATE TABLE market_data_5min (
    bucket timestamptz NOT NULL,
    contract_id bigint NOT NULL,
    open double precision, high double precision, low double precision,
    close double precision, bid double precision, ask double precision,
    spread_avg double precision, volume bigint, open_interest bigint,
    implied_volatility double precision, underlying_price double precision,
    tick_count bigint NOT NULL,
    CONSTRAINT pk_market_data_5min PRIMARY KEY (contract_id, bucket)
) PARTITION BY RANGE (bucket)
-- next statement
CREATE TABLE stock_data_1min (
    bucket timestamptz NOT NULL,
    underlying_id bigint NOT NULL,
    open double precision, high double precision, low double precision,
    close double precision, bid double precision, ask double precision,
    volume double precision, tick_count bigint NOT NULL,
    CONSTRAINT pk_stock_data_1min PRIMARY KEY (underlying_id, bucket)
) PARTITION BY RANGE (bucket)
-- next statement
CREATE FUNCTION refresh_rollup(rollup_name text, start_at timestamptz, end_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz;
    hi timestamptz;
    written bigint;
BEGIN
    IF end_at <= start_at THEN
        RETURN 0;
    END IF;
    IF rollup_name = 'market_data_1min' THEN
        lo := date_bin('1 minute', start_at, '2000-01-03 00:00:00+00');
        hi := date_bin('1 minute', end_at - interval '1 microsecond', '2000-01-03 00:00:00+00')
              + interval '1 minute';
        PERFORM create_partition_range('market_data_1min', lo, hi - interval '1 microsecond');
        DELETE FROM market_data_1min WHERE bucket >= lo AND bucket < hi;
        INSERT INTO market_data_1min
        SELECT date_bin('1 minute', time, '2000-01-03 00:00:00+00') AS bucket, contract_id,
    (array_agg(mid_price ORDER BY time ASC))[1] AS open,
    max(mid_price) AS high,
    min(mid_price) AS low,
    (array_agg(mid_price ORDER BY time DESC))[1] AS close,
    (array_agg(bid_price ORDER BY time DESC))[1] AS bid,
    (array_agg(ask_price ORDER BY time DESC))[1] AS ask,
    avg(bid_ask_spread) AS spread_avg,
    max(volume) AS volume,
    (array_agg(open_interest ORDER BY time DESC))[1] AS open_interest,
    (array_agg(implied_volatility ORDER BY time DESC))[1] AS implied_volatility,
    (array_agg(underlying_price ORDER BY time DESC))[1] AS underlying_price,
    count(*) AS tick_count
FROM market_data_ticks
        WHERE time >= lo AND time < hi
        GROUP BY 1, 2;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
    END IF;
    IF rollup_name = 'market_data_5min' THEN
        lo := date_bin('5 minutes', start_at, '2000-01-03 00:00:00+00');
        hi := date_bin('5 minutes', end_at - interval '1 microsecond', '2000-01-03 00:00:00+00')
              + interval '5 minutes';
        PERFORM create_partition_range('market_data_5min', lo, hi - interval '1 microsecond');
        PERFORM refresh_rollup('market_data_1min', lo, hi);
        DELETE FROM market_data_5min WHERE bucket >= lo AND bucket < hi;
        INSERT INTO market_data_5min
        SELECT date_bin('5 minutes', bucket, '2000-01-03 00:00:00+00') AS bucket, contract_id,
    (array_agg(open ORDER BY bucket ASC))[1] AS open,
    max(high) AS high,
    min(low) AS low,
    (array_agg(close ORDER BY bucket DESC))[1] AS close,
    (array_agg(bid ORDER BY bucket DESC))[1] AS bid,
    (array_agg(ask ORDER BY bucket DESC))[1] AS ask,
    sum(spread_avg * tick_count) / nullif(sum(tick_count), 0) AS spread_avg,
    max(volume) AS volume,
    (array_agg(open_interest ORDER BY bucket DESC))[1] AS open_interest,
    (array_agg(implied_volatility ORDER BY bucket DESC))[1] AS implied_volatility,
    (array_agg(underlying_price ORDER BY bucket DESC))[1] AS underlying_price,
    sum(tick_count) AS tick_count
FROM market_data_1min
        WHERE bucket >= lo AND bucket < hi
        GROUP BY 1, 2;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
    END IF;
    IF rollup_name = 'stock_data_1min' THEN
        lo := date_bin('1 minute', start_at, '2000-01-03 00:00:00+00');
        hi := date_bin('1 minute', end_at - interval '1 microsecond', '2000-01-03 00:00:00+00')
              + interval '1 minute';
        PERFORM create_partition_range('stock_data_1min', lo, hi - interval '1 microsecond');
        DELETE FROM stock_data_1min WHERE bucket >= lo AND bucket < hi;
        INSERT INTO stock_data_1min
        SELECT date_bin('1 minute', time, '2000-01-03 00:00:00+00') AS bucket, underlying_id,
    (array_agg(coalesce(price, (bid_price + ask_price) / 2) ORDER BY time ASC))[1] AS open,
    max(coalesce(price, (bid_price + ask_price) / 2)) AS high,
    min(coalesce(price, (bid_price + ask_price) / 2)) AS low,
    (array_agg(coalesce(price, (bid_price + ask_price) / 2) ORDER BY time DESC))[1] AS close,
    (array_agg(bid_price ORDER BY time DESC))[1] AS bid,
    (array_agg(ask_price ORDER BY time DESC))[1] AS ask,
    max(volume) AS volume,
    count(*) AS tick_count
FROM stock_data_ticks
        WHERE time >= lo AND time < hi
        GROUP BY 1, 2;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
    END IF;
    RAISE EXCEPTION 'unknown rollup %', rollup_name USING ERRCODE = '42P01';
END
$$
-- next statement
CREATE VIEW partition_info AS
SELECT p.relname::text AS parent_table,
       c.relname::text AS tablename,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz AS range_start,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS range_end,
       pg_total_relation_size(c.oid) AS total_bytes,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
       false AS is_compressed
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relname IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars') AND pg_table_is_visible(p.oid)
-- next statement
CREATE VIEW hypertable_stats AS
SELECT p.relname::text AS hypertable_name,
       ('1 ' || alc_partition_period(p.relname))::interval AS chunk_interval,
       count(i.inhrelid) AS num_chunks,
       0::bigint AS compressed_chunks,
       false AS compression_enabled,
       coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint AS total_bytes,
       pg_size_pretty(coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)) AS total_size
FROM pg_class p
LEFT JOIN pg_inherits i ON i.inhparent = p.oid
WHERE p.relname IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars') AND p.relkind = 'p' AND pg_table_is_visible(p.oid)
GROUP BY p.relname
-- next statement
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002'
