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
-- next statement
SELECT create_hypertable('market_data_ticks', by_range('time', INTERVAL '1 day'), create_default_indexes => false)
-- next statement
ALTER TABLE market_data_ticks SET (timescaledb.enable_columnstore = true, timescaledb.segmentby = 'contract_id', timescaledb.orderby = 'time DESC')
-- next statement
CALL add_columnstore_policy('market_data_ticks', after => INTERVAL '7 days')
-- next statement
SELECT create_hypertable('stock_data_ticks', by_range('time', INTERVAL '1 day'), create_default_indexes => false)
-- next statement
ALTER TABLE stock_data_ticks SET (timescaledb.enable_columnstore = true, timescaledb.segmentby = 'underlying_id', timescaledb.orderby = 'time DESC')
-- next statement
CALL add_columnstore_policy('stock_data_ticks', after => INTERVAL '7 days')
-- next statement
SELECT create_hypertable('option_bars', by_range('time', INTERVAL '1 month'), create_default_indexes => false)
-- next statement
ALTER TABLE option_bars SET (timescaledb.enable_columnstore = true, timescaledb.segmentby = 'contract_id, what_to_show, bar_size', timescaledb.orderby = 'time DESC')
-- next statement
CALL add_columnstore_policy('option_bars', after => INTERVAL '7 days')
-- next statement
SELECT create_hypertable('stock_bars', by_range('time', INTERVAL '1 month'), create_default_indexes => false)
-- next statement
ALTER TABLE stock_bars SET (timescaledb.enable_columnstore = true, timescaledb.segmentby = 'underlying_id, what_to_show, bar_size', timescaledb.orderby = 'time DESC')
-- next statement
CALL add_columnstore_policy('stock_bars', after => INTERVAL '7 days')
-- next statement
CREATE MATERIALIZED VIEW market_data_1min
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket('1 minute', time) AS bucket, contract_id,
    first(mid_price, time) AS open,
    max(mid_price) AS high,
    min(mid_price) AS low,
    last(mid_price, time) AS close,
    last(bid_price, time) AS bid,
    last(ask_price, time) AS ask,
    avg(bid_ask_spread) AS spread_avg,
    max(volume) AS volume,
    last(open_interest, time) AS open_interest,
    last(implied_volatility, time) AS implied_volatility,
    last(underlying_price, time) AS underlying_price,
    count(*) AS tick_count
FROM market_data_ticks
GROUP BY time_bucket('1 minute', time), contract_id
WITH NO DATA
-- next statement
CREATE MATERIALIZED VIEW market_data_5min
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket('5 minutes', bucket) AS bucket, contract_id,
    first(open, bucket) AS open,
    max(high) AS high,
    min(low) AS low,
    last(close, bucket) AS close,
    last(bid, bucket) AS bid,
    last(ask, bucket) AS ask,
    sum(spread_avg * tick_count) / nullif(sum(tick_count), 0) AS spread_avg,
    max(volume) AS volume,
    last(open_interest, bucket) AS open_interest,
    last(implied_volatility, bucket) AS implied_volatility,
    last(underlying_price, bucket) AS underlying_price,
    sum(tick_count) AS tick_count
FROM market_data_1min
GROUP BY time_bucket('5 minutes', bucket), contract_id
WITH NO DATA
-- next statement
CREATE MATERIALIZED VIEW stock_data_1min
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket('1 minute', time) AS bucket, underlying_id,
    first(coalesce(price, (bid_price + ask_price) / 2), time) AS open,
    max(coalesce(price, (bid_price + ask_price) / 2)) AS high,
    min(coalesce(price, (bid_price + ask_price) / 2)) AS low,
    last(coalesce(price, (bid_price + ask_price) / 2), time) AS close,
    last(bid_price, time) AS bid,
    last(ask_price, time) AS ask,
    max(volume) AS volume,
    count(*) AS tick_count
FROM stock_data_ticks
GROUP BY time_bucket('1 minute', time), underlying_id
WITH NO DATA
-- next statement
SELECT add_continuous_aggregate_policy('market_data_1min', start_offset => INTERVAL '2 hours', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute')
-- next statement
SELECT add_continuous_aggregate_policy('market_data_5min', start_offset => INTERVAL '6 hours', end_offset => INTERVAL '5 minutes', schedule_interval => INTERVAL '5 minutes')
-- next statement
SELECT add_continuous_aggregate_policy('stock_data_1min', start_offset => INTERVAL '2 hours', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute')
-- next statement
SELECT add_retention_policy('market_data_ticks', drop_after => INTERVAL '30 days')
-- next statement
SELECT add_retention_policy('stock_data_ticks', drop_after => INTERVAL '30 days')
-- next statement
CREATE VIEW partition_info AS
SELECT c.hypertable_name::text AS parent_table,
       c.chunk_name::text AS tablename,
       c.range_start,
       c.range_end,
       s.total_bytes,
       pg_size_pretty(s.total_bytes) AS total_size,
       c.is_compressed
FROM timescaledb_information.chunks c
LEFT JOIN LATERAL (
    SELECT d.total_bytes
    FROM chunks_detailed_size(format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass) d
    WHERE d.chunk_schema = c.chunk_schema AND d.chunk_name = c.chunk_name
) s ON true
WHERE c.hypertable_name IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars')
-- next statement
CREATE VIEW hypertable_stats AS
SELECT h.hypertable_name::text AS hypertable_name,
       d.time_interval AS chunk_interval,
       h.num_chunks::bigint AS num_chunks,
       (SELECT count(*) FROM timescaledb_information.chunks c
        WHERE c.hypertable_schema = h.hypertable_schema
          AND c.hypertable_name = h.hypertable_name AND c.is_compressed) AS compressed_chunks,
       h.compression_enabled,
       hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass)
           AS total_bytes,
       pg_size_pretty(
           hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass)
       ) AS total_size
FROM timescaledb_information.hypertables h
JOIN timescaledb_information.dimensions d
  ON d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name
 AND d.dimension_number = 1
WHERE h.hypertable_name IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars')
-- next statement
CREATE FUNCTION create_partition_range(tbl text, start_at timestamptz, end_at timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF tbl NOT IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars') THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    IF end_at < start_at THEN
        RAISE EXCEPTION 'end % is before start %', end_at, start_at USING ERRCODE = '22023';
    END IF;
    -- TimescaleDB creates chunks as rows arrive: nothing to do.
    RETURN 0;
END
$$
-- next statement
CREATE FUNCTION alc_ensure_partition(tbl text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF tbl NOT IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars') THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    RETURN false;
END
$$
-- next statement
CREATE FUNCTION drop_old_partitions(tbl text, keep_months integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    dropped integer;
BEGIN
    IF tbl NOT IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars') THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    IF keep_months IS NULL OR keep_months < 0 THEN
        RAISE EXCEPTION 'keep_months must be >= 0, got %', keep_months USING ERRCODE = '22023';
    END IF;
    SELECT count(*) INTO dropped FROM drop_chunks(
        tbl::regclass,
        older_than => (date_trunc('month', now() AT TIME ZONE 'UTC')
                       - make_interval(months => keep_months)) AT TIME ZONE 'UTC');
    RETURN dropped;
END
$$
-- next statement
UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002'
