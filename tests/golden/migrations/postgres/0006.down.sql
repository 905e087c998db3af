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
ALTER TABLE history_requests DROP CONSTRAINT fk_history_requests_source_id_data_sources
-- next statement
ALTER TABLE arbitrage_opportunities DROP CONSTRAINT fk_arbitrage_opportunities_source_id_data_sources
-- next statement
ALTER TABLE arbitrage_opportunities DROP COLUMN source_id
-- next statement
DELETE FROM history_requests a USING history_requests b WHERE a.instrument_kind = b.instrument_kind AND a.instrument_id = b.instrument_id AND a.what_to_show = b.what_to_show AND a.bar_size = b.bar_size AND a.trading_day = b.trading_day AND a.source_id > b.source_id
-- next statement
ALTER TABLE history_requests DROP CONSTRAINT uq_history_requests_source_id
-- next statement
ALTER TABLE history_requests ADD CONSTRAINT uq_history_requests_instrument_kind_instrument_id_what__0ad1 UNIQUE (instrument_kind, instrument_id, what_to_show, bar_size, trading_day)
-- next statement
ALTER TABLE history_requests DROP COLUMN source_id
-- next statement
DELETE FROM market_data_ticks a USING market_data_ticks b WHERE a.contract_id = b.contract_id AND a.time = b.time AND a.source_id > b.source_id
-- next statement
ALTER TABLE market_data_ticks DROP CONSTRAINT pk_market_data_ticks
-- next statement
ALTER TABLE market_data_ticks ADD CONSTRAINT pk_market_data_ticks PRIMARY KEY (contract_id, time)
-- next statement
DELETE FROM stock_data_ticks a USING stock_data_ticks b WHERE a.underlying_id = b.underlying_id AND a.time = b.time AND a.source_id > b.source_id
-- next statement
ALTER TABLE stock_data_ticks DROP CONSTRAINT pk_stock_data_ticks
-- next statement
ALTER TABLE stock_data_ticks ADD CONSTRAINT pk_stock_data_ticks PRIMARY KEY (underlying_id, time)
-- next statement
DELETE FROM option_bars a USING option_bars b WHERE a.contract_id = b.contract_id AND a.what_to_show = b.what_to_show AND a.bar_size = b.bar_size AND a.time = b.time AND a.source_id > b.source_id
-- next statement
ALTER TABLE option_bars DROP CONSTRAINT pk_option_bars
-- next statement
ALTER TABLE option_bars ADD CONSTRAINT pk_option_bars PRIMARY KEY (contract_id, what_to_show, bar_size, time)
-- next statement
DELETE FROM stock_bars a USING stock_bars b WHERE a.underlying_id = b.underlying_id AND a.what_to_show = b.what_to_show AND a.bar_size = b.bar_size AND a.time = b.time AND a.source_id > b.source_id
-- next statement
ALTER TABLE stock_bars DROP CONSTRAINT pk_stock_bars
-- next statement
ALTER TABLE stock_bars ADD CONSTRAINT pk_stock_bars PRIMARY KEY (underlying_id, what_to_show, bar_size, time)
-- next statement
ALTER TABLE market_data_ticks DROP COLUMN source_id
-- next statement
ALTER TABLE stock_data_ticks DROP COLUMN source_id
-- next statement
ALTER TABLE option_bars DROP COLUMN source_id
-- next statement
ALTER TABLE stock_bars DROP COLUMN source_id
-- next statement
DELETE FROM market_data_1min a USING market_data_1min b WHERE a.contract_id = b.contract_id AND a.bucket = b.bucket AND a.source_id > b.source_id
-- next statement
ALTER TABLE market_data_1min DROP CONSTRAINT pk_market_data_1min
-- next statement
ALTER TABLE market_data_1min ADD CONSTRAINT pk_market_data_1min PRIMARY KEY (contract_id, bucket)
-- next statement
ALTER TABLE market_data_1min DROP COLUMN source_id
-- next statement
DELETE FROM market_data_5min a USING market_data_5min b WHERE a.contract_id = b.contract_id AND a.bucket = b.bucket AND a.source_id > b.source_id
-- next statement
ALTER TABLE market_data_5min DROP CONSTRAINT pk_market_data_5min
-- next statement
ALTER TABLE market_data_5min ADD CONSTRAINT pk_market_data_5min PRIMARY KEY (contract_id, bucket)
-- next statement
ALTER TABLE market_data_5min DROP COLUMN source_id
-- next statement
DELETE FROM stock_data_1min a USING stock_data_1min b WHERE a.underlying_id = b.underlying_id AND a.bucket = b.bucket AND a.source_id > b.source_id
-- next statement
ALTER TABLE stock_data_1min DROP CONSTRAINT pk_stock_data_1min
-- next statement
ALTER TABLE stock_data_1min ADD CONSTRAINT pk_stock_data_1min PRIMARY KEY (underlying_id, bucket)
-- next statement
ALTER TABLE stock_data_1min DROP COLUMN source_id
-- next statement
CREATE OR REPLACE FUNCTION refresh_rollup(rollup_name text, start_at timestamptz, end_at timestamptz)
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
DROP TABLE data_sources
-- next statement
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0006'
