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
CREATE TEMP TABLE alc_recompress ON COMMIT DROP AS
SELECT format('%I.%I', chunk_schema, chunk_name)::regclass AS chunk
FROM timescaledb_information.chunks
WHERE is_compressed
  AND hypertable_name IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars')
-- next statement
SELECT count(decompress_chunk(chunk)) FROM alc_recompress
-- next statement
DROP MATERIALIZED VIEW stock_data_1min
-- next statement
DROP MATERIALIZED VIEW market_data_5min
-- next statement
DROP MATERIALIZED VIEW market_data_1min
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
ALTER TABLE market_data_ticks SET (timescaledb.segmentby = 'contract_id')
-- next statement
ALTER TABLE stock_data_ticks SET (timescaledb.segmentby = 'underlying_id')
-- next statement
ALTER TABLE option_bars SET (timescaledb.segmentby = 'contract_id, what_to_show, bar_size')
-- next statement
ALTER TABLE stock_bars SET (timescaledb.segmentby = 'underlying_id, what_to_show, bar_size')
-- next statement
ALTER TABLE market_data_ticks DROP COLUMN source_id
-- next statement
ALTER TABLE stock_data_ticks DROP COLUMN source_id
-- next statement
ALTER TABLE option_bars DROP COLUMN source_id
-- next statement
ALTER TABLE stock_bars DROP COLUMN source_id
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
SELECT count(compress_chunk(chunk)) FROM alc_recompress
-- next statement
DROP TABLE data_sources
-- next statement
UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0006'
