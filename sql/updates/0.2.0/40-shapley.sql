
-- ---------------------------------------------------------------------------
-- journey_paths: customer journeys summarized per distinct path, and the
-- data-driven attribution models that read it: Shapley values and Google's
-- fractribution.
-- ---------------------------------------------------------------------------

CREATE TYPE journey_paths;

CREATE FUNCTION omnikpi_jp_in(cstring) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_out(journey_paths) RETURNS cstring
	AS 'MODULE_PATHNAME', 'omnikpi_jp_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_recv(internal) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_send(journey_paths) RETURNS bytea
	AS 'MODULE_PATHNAME', 'omnikpi_jp_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE journey_paths (
	INPUT = omnikpi_jp_in,
	OUTPUT = omnikpi_jp_out,
	RECEIVE = omnikpi_jp_recv,
	SEND = omnikpi_jp_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE journey_paths IS
	'customer journeys per distinct channel path (repeats collapsed): conversions, non-conversions and value; read with shapley_attribution(), fractribution_attribution(), paths()';

-- The transition functions are not STRICT: rows with a NULL path or outcome
-- are skipped, and the first journey with a channel creates the state.
CREATE FUNCTION omnikpi_jp_trans(journey_paths, text[], boolean) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_value_trans(journey_paths, text[], boolean, double precision)
	RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_value_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_counted_trans(journey_paths, text[], double precision,
										 double precision, double precision)
	RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_counted_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_combine(journey_paths, journey_paths) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The stored form of a working state.
CREATE FUNCTION omnikpi_jp_final(journey_paths) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE journey_paths(path text[], converted boolean) (
	SFUNC = omnikpi_jp_trans, STYPE = journey_paths,
	SSPACE = 1024, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE journey_paths(text[], boolean) IS
	'summary of journeys (one row each: channels in time order, converted or not) per distinct path, for data-driven attribution';

CREATE AGGREGATE journey_paths(path text[], converted boolean, value double precision) (
	SFUNC = omnikpi_jp_value_trans, STYPE = journey_paths,
	SSPACE = 1024, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE journey_paths(text[], boolean, double precision) IS
	'summary of journeys (one row each: channels in time order, converted or not, conversion value) per distinct path, for data-driven attribution';

CREATE AGGREGATE journey_paths(path text[], conversions double precision,
							   non_conversions double precision, value double precision) (
	SFUNC = omnikpi_jp_counted_trans, STYPE = journey_paths,
	SSPACE = 1024, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE journey_paths(text[], double precision, double precision, double precision) IS
	'summary of paths already counted (path, conversions, non-conversions, value), for data-driven attribution';

CREATE AGGREGATE rollup(journey_paths) (
	SFUNC = omnikpi_jp_combine, STYPE = journey_paths,
	SSPACE = 1024, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(journey_paths) IS
	'exact combination of journey_paths summaries, e.g. monthly summaries into a quarter';

CREATE FUNCTION paths(journey_paths, OUT path text[], OUT conversions double precision,
					  OUT non_conversions double precision, OUT value double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'omnikpi_jp_paths' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 100;
COMMENT ON FUNCTION paths(journey_paths) IS
	'the distinct paths of a journey_paths summary with their conversions, non-conversions and value';

CREATE FUNCTION channel_count(journey_paths) RETURNS integer
	AS 'MODULE_PATHNAME', 'omnikpi_channel_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION channel_count(journey_paths) IS
	'number of distinct channels on the paths of a journey_paths summary';

CREATE FUNCTION shapley_attribution(paths journey_paths, characteristic text DEFAULT 'conversions',
									OUT channel text, OUT conversions double precision,
									OUT value double precision, OUT share double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'omnikpi_shapley_attribution' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 8;
COMMENT ON FUNCTION shapley_attribution(journey_paths, text) IS
	'exact Shapley-value attribution per channel; characteristic conversions (Zhao et al. 2018: conversions of journeys whose channel set is inside the coalition) or conversion_rate';

CREATE FUNCTION fractribution_attribution(paths journey_paths,
										  OUT channel text, OUT conversions double precision,
										  OUT value double precision, OUT share double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'omnikpi_fractribution_attribution' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 8;
COMMENT ON FUNCTION fractribution_attribution(journey_paths) IS
	'Google fractribution attribution per channel: leave-one-out counterfactual conversion probabilities per path, floored at 0, normalized, last touch when all are 0';
