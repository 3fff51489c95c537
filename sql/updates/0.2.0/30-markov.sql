-- ---------------------------------------------------------------------------
-- Markov-chain attribution: the markov_model type, its aggregates, rollup,
-- markov_attribution, and the accessors transitions and channel_count.
-- ---------------------------------------------------------------------------

CREATE TYPE markov_model;

CREATE FUNCTION omnikpi_markov_in(cstring) RETURNS markov_model
	AS 'MODULE_PATHNAME', 'omnikpi_markov_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_out(markov_model) RETURNS cstring
	AS 'MODULE_PATHNAME', 'omnikpi_markov_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_recv(internal) RETURNS markov_model
	AS 'MODULE_PATHNAME', 'omnikpi_markov_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_send(markov_model) RETURNS bytea
	AS 'MODULE_PATHNAME', 'omnikpi_markov_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE markov_model (
	INPUT = omnikpi_markov_in,
	OUTPUT = omnikpi_markov_out,
	RECEIVE = omnikpi_markov_recv,
	SEND = omnikpi_markov_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended);
COMMENT ON TYPE markov_model IS
	'transition counts of customer journeys between (start), channel states, (conversion) and (null); combine with rollup(), read with markov_attribution() and transitions()';

-- Transition and combine functions.  The transition functions are not
-- STRICT: a row with a NULL path, outcome or count is skipped, and the first
-- usable row creates the state.  One C function serves the forms of one
-- journey per row, another those of counted paths.

CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean, double precision)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean, double precision, integer)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean, double precision, integer, text)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_counted_trans(markov_model, text[], double precision,
											 double precision, double precision, integer)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_counted_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_counted_trans(markov_model, text[], double precision,
											 double precision, double precision, integer, text)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_counted_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_combine(markov_model, markov_model)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The stored form of a working state.
CREATE FUNCTION omnikpi_markov_final(markov_model)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE markov_model(path text[], converted boolean) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 2048, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean) IS
	'first-order Markov model of journeys, one row per journey: its channels in time order and whether it converted';

CREATE AGGREGATE markov_model(path text[], converted boolean, value double precision) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 2048, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean, double precision) IS
	'first-order Markov model of journeys with the conversion value of each converting journey';

CREATE AGGREGATE markov_model(path text[], converted boolean, value double precision, markov_order integer) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 2048, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean, double precision, integer) IS
	'Markov model of journeys of order 1 to 4 (channel states are tuples of the last order channels); a channel touched twice in a row counts once';

CREATE AGGREGATE markov_model(path text[], converted boolean, value double precision, markov_order integer,
							  repeats text) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 2048, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean, double precision, integer, text) IS
	'Markov model of journeys of order 1 to 4; repeats collapse (a channel touched twice in a row counts once, the default) or keep (states from the path as it is, as in the ChannelAttribution package)';

CREATE AGGREGATE markov_model(path text[], conversions double precision, non_conversions double precision,
							  value double precision, markov_order integer) (
	SFUNC = omnikpi_markov_counted_trans, STYPE = markov_model,
	SSPACE = 2048, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], double precision, double precision, double precision, integer) IS
	'Markov model of order 1 to 4 from paths already counted: conversions, non-conversions and conversion value per path';

CREATE AGGREGATE markov_model(path text[], conversions double precision, non_conversions double precision,
							  value double precision, markov_order integer, repeats text) (
	SFUNC = omnikpi_markov_counted_trans, STYPE = markov_model,
	SSPACE = 2048, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], double precision, double precision, double precision, integer, text) IS
	'Markov model of order 1 to 4 from paths already counted; repeats collapse (the default) or keep';

CREATE AGGREGATE rollup(markov_model) (
	SFUNC = omnikpi_markov_combine, STYPE = markov_model,
	SSPACE = 2048, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(markov_model) IS
	'exact combination of Markov models of one order and one convention for repeats, e.g. daily models into a month';

CREATE FUNCTION markov_attribution(model markov_model)
	RETURNS TABLE (channel text, conversions double precision, value double precision,
				   share double precision, removal_effect double precision)
	AS 'MODULE_PATHNAME', 'omnikpi_markov_attribution'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION markov_attribution(markov_model) IS
	'per channel the observed conversions and value shared out in proportion to the exact removal effects, the share of the conversions, and the removal effect';

CREATE FUNCTION transitions(model markov_model)
	RETURNS TABLE (from_state text, to_state text, transitions double precision,
				   probability double precision)
	AS 'MODULE_PATHNAME', 'omnikpi_markov_transitions'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION transitions(markov_model) IS
	'every transition of a Markov model with its count and its probability among the transitions out of the same state';

CREATE FUNCTION channel_count(markov_model) RETURNS integer
	AS 'MODULE_PATHNAME', 'omnikpi_channel_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION channel_count(markov_model) IS
	'number of distinct channels in a Markov model';
