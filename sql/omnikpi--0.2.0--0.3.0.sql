-- omnikpi 0.2.0 to 0.3.0, run by ALTER EXTENSION omnikpi UPDATE.  Every
-- statement runs on a 0.2.0 database: what changes is replaced in place or,
-- where its signature changed, re-created with the privileges and comment a
-- DBA gave it.  Each change here is also made in omnikpi--0.3.0.sql;
-- test/suites/upgrade.sh holds the two to the same objects.
\echo Use "ALTER EXTENSION omnikpi UPDATE TO '0.3.0'" to load this file. \quit

-- The journey aggregates declare the size of a small group's state, a
-- journal of one journey (omnikpi--0.3.0.sql says how it was measured), so
-- that the planner's hash-memory estimate is that of the groups it expects
-- many of.  CREATE OR REPLACE changes SSPACE in place and keeps the
-- aggregates, their comments and the views that use them.
CREATE OR REPLACE AGGREGATE markov_model(path text[], converted boolean) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE markov_model(path text[], converted boolean, value double precision) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE markov_model(path text[], converted boolean, value double precision, markov_order integer) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE markov_model(path text[], converted boolean, value double precision, markov_order integer,
										  repeats text) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE markov_model(path text[], conversions double precision, non_conversions double precision,
										  value double precision, markov_order integer) (
	SFUNC = omnikpi_markov_counted_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE markov_model(path text[], conversions double precision, non_conversions double precision,
										  value double precision, markov_order integer, repeats text) (
	SFUNC = omnikpi_markov_counted_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE journey_paths(path text[], converted boolean) (
	SFUNC = omnikpi_jp_trans, STYPE = journey_paths,
	SSPACE = 128, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE journey_paths(path text[], converted boolean, value double precision) (
	SFUNC = omnikpi_jp_value_trans, STYPE = journey_paths,
	SSPACE = 128, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE journey_paths(path text[], conversions double precision,
										  non_conversions double precision, value double precision) (
	SFUNC = omnikpi_jp_counted_trans, STYPE = journey_paths,
	SSPACE = 128, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);

-- The incremental refresh follows the window, not the history: entity rows
-- are found by their key's index (key = ANY (the touched keys)) instead of a
-- join that scanned the whole entity table, customer_orders gains an index
-- on customer_id (for the revenue of a touched profile; schemas made before
-- get it when create_kpi_views runs again), a touched entity whose row comes
-- out the same is neither rewritten nor added to the summaries, and the
-- refresh runs without JIT.
-- The lookup of the touched keys' stored rows is a column of its own
-- (index_lookup), beside matches, which pairs the temporary tables' rows.
-- Functions and operators named with their schema: the update runs with
-- the DBA's search_path.
ALTER TABLE omnikpi.kpi_entity_tables ADD COLUMN index_lookup text;
UPDATE omnikpi.kpi_entity_tables SET
	index_lookup = 'e.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched))'
WHERE table_name = 'interaction_journeys' AND keyed_by = 'journey_id';
UPDATE omnikpi.kpi_entity_tables SET
	index_lookup = 'e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))'
WHERE table_name = 'interaction_journeys' AND keyed_by = 'customer_id';
UPDATE omnikpi.kpi_entity_tables SET
	index_lookup = 'e.issue_id = ANY (ARRAY(SELECT issue_id FROM pg_temp.kpi_touched))'
WHERE table_name = 'interaction_issues';
UPDATE omnikpi.kpi_entity_tables SET
	indexes = '{order_id,customer_id,last_event_at,ordered_at,month}',
	index_lookup = 'e.order_id = ANY (ARRAY(SELECT order_id FROM pg_temp.kpi_touched))'
WHERE table_name = 'customer_orders';
UPDATE omnikpi.kpi_entity_tables SET
	index_lookup = 'e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))'
WHERE table_name = 'customer_profiles';
UPDATE omnikpi.kpi_entity_tables SET
	index_lookup = pg_catalog.format('e.%1$s = ANY (ARRAY(SELECT %1$s FROM pg_temp.kpi_touched))', keyed_by)
WHERE table_name = 'attribution_paths';
-- The contacts that can precede a touched order (ROPO) are read through
-- the source's index on the customer, from the earliest touched order's
-- window on, instead of joining every contact of the history.
UPDATE omnikpi.kpi_entity_tables SET
	optional_input = $i$(SELECT i.* FROM %1$I.source_interactions AS i
	WHERE i.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched WHERE customer_id IS NOT NULL))
	  AND i.occurred_at >= (SELECT min(o.ordered_at) FROM pg_temp.kpi_input_1 AS o) - %2$L::interval - interval '7 days')$i$
WHERE table_name = 'customer_orders';
ALTER TABLE omnikpi.kpi_entity_tables ALTER COLUMN index_lookup SET NOT NULL;

-- A touched customer's profile is refreshed without reading its whole
-- order history or printing it: its orders and revenue are the stored ones
-- plus the net changes of its orders (counted again only when it lost an
-- order with an amount or had no profile), its active months from the
-- window's month on come from its last day before the window and the
-- window's days, and a stored profile is paired with its new row by
-- customer_id (row_key) and compared by binary image instead of text form.
-- customer_month_summary adds up only the months from the one before the
-- window on ($1, the window's start, which add_to_summary now passes to
-- its templates).
ALTER TABLE omnikpi.kpi_entity_tables ADD COLUMN row_key name[];
UPDATE omnikpi.kpi_entity_tables SET row_key = '{customer_id}',
	optional_input = $i$(WITH changed AS (
	SELECT customer_id, amount_text::numeric AS amount, sum(sign) AS sign
	FROM (SELECT customer_id, amount::text AS amount_text, sign FROM pg_temp.kpi_changes_customer_orders) AS c
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id, amount_text
	HAVING sum(sign) <> 0),
recounted AS (
	SELECT customer_id FROM changed WHERE sign < 0 AND amount IS NOT NULL
	UNION
	(SELECT customer_id FROM pg_temp.kpi_touched
	 EXCEPT
	 SELECT customer_id FROM %1$I.customer_profiles
	 WHERE customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))))
SELECT customer_id, amount, sign FROM changed WHERE customer_id NOT IN (SELECT customer_id FROM recounted)
UNION ALL
SELECT customer_id, NULL, 0 FROM recounted
UNION ALL
SELECT o.customer_id, o.amount, 1 FROM %1$I.customer_orders AS o
WHERE o.customer_id = ANY (ARRAY(SELECT customer_id FROM recounted)))$i$
WHERE table_name = 'customer_profiles';
UPDATE omnikpi.kpi_layer_views SET absent_input = $r$(SELECT customer_id, NULL::numeric AS amount, NULL::bigint AS sign FROM %13$s AS source_rows WHERE false)$r$
WHERE view_name = 'customer_profiles';
UPDATE omnikpi.kpi_summary_tables SET definition = $v$WITH marked AS (
	-- each active month of a customer from there on, with the one before and after it
	SELECT c.sign, c.active_months[m.n] AS month, c.active_months[m.n - 1] AS previous_month,
		c.active_months[m.n + 1] AS next_month
	FROM %16$s AS c
	CROSS JOIN LATERAL generate_series(
		coalesce(width_bucket((date_trunc('month', $1 AT TIME ZONE %8$L) - interval '1 month')::date - 1, c.active_months), 0) + 1,
		cardinality(c.active_months)) AS m(n)),
entries AS (
	SELECT month, sign, sign AS active, sign * (previous_month IS NULL)::integer AS new,
		sign * coalesce(previous_month = (month - interval '1 month')::date, false)::integer AS retained, 0 AS churned
	FROM marked
	UNION ALL
	SELECT (month + interval '1 month')::date, sign, 0, 0, 0, sign
	FROM marked
	WHERE next_month IS DISTINCT FROM (month + interval '1 month')::date)
SELECT month, sum(sign) AS entries, sum(active) AS active_customers, sum(new) AS new_customers,
	sum(retained) AS retained_customers, sum(churned) AS churned_customers
FROM entries
GROUP BY month$v$
WHERE table_name = 'customer_month_summary';

-- The columns of a refresh's touched keys (pg_temp.kpi_touched) an entity
-- table has: customer_id and the entity's own id, or customer_id alone for
-- an entity numbered per customer (its touched keys carry where the
-- numbering starts again, which the table does not have).
CREATE FUNCTION omnikpi.touched_key_columns(relation regclass) RETURNS name[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT array_agg(t.attname ORDER BY t.attnum)
	FROM pg_attribute t
	WHERE t.attrelid = to_regclass('pg_temp.kpi_touched') AND t.attnum > 0 AND NOT t.attisdropped
	  AND EXISTS (SELECT FROM pg_attribute e WHERE e.attrelid = relation AND e.attname = t.attname
				  AND e.attnum > 0 AND NOT e.attisdropped)
$fn$;
COMMENT ON FUNCTION omnikpi.touched_key_columns(regclass) IS
	'the columns of the touched keys of a refresh of the materialized form that the entity table has';

-- The keys of a refresh's temporary table (keys) for an entity table, as
-- constants: for each of its touched key columns, the distinct values as
-- an array literal of the column's type ({"customer_id": "'{...}'::bigint[]"}).
-- A constant, not a subquery on a temporary table of the coordinator, is
-- what lets Citus prune the shards and run a whole statement on the
-- workers.  Computed once per keys table and statement family, then put
-- into the condition of each relation read (key_condition).
CREATE FUNCTION omnikpi.key_values(relation regclass, keys text) RETURNS jsonb
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	key record;
	literal text;
	key_values jsonb := '{}';
BEGIN
	FOR key IN SELECT k.attname, format_type(k.atttypid, k.atttypmod) AS type_name
			   FROM unnest(omnikpi.touched_key_columns(relation)) AS c(name)
			   JOIN pg_attribute k ON k.attrelid = to_regclass(keys) AND k.attname = c.name AND NOT k.attisdropped LOOP
		EXECUTE format('SELECT array_agg(DISTINCT %1$I ORDER BY %1$I)::text FROM %2$s WHERE %1$I IS NOT NULL',
					   key.attname, keys)
			INTO literal;
		key_values := key_values || jsonb_build_object(key.attname, format('%L::%s[]', coalesce(literal, '{}'), key.type_name));
	END LOOP;
	RETURN key_values;
END
$fn$;
COMMENT ON FUNCTION omnikpi.key_values(regclass, text) IS
	'the keys of a temporary table of a refresh for an entity table, written as constants, per key column';

-- The condition that limits a relation (the name of a table or view) to
-- the keys of key_values: alias.column = ANY (the values) for each key
-- column the relation has; NULL when it has none.
CREATE FUNCTION omnikpi.key_condition(relation text, alias text, key_values jsonb) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT string_agg(format('%s.%I = ANY (%s)', alias, k.key, k.value), ' AND ' ORDER BY k.key)
	FROM jsonb_each_text(key_values) AS k
	WHERE EXISTS (SELECT FROM pg_attribute r WHERE r.attrelid = to_regclass(relation)
				  AND r.attname = k.key AND r.attnum > 0 AND NOT r.attisdropped)
$fn$;
COMMENT ON FUNCTION omnikpi.key_condition(text, text, jsonb) IS
	'the condition that limits a relation to the keys of a refresh written as constants (key_values)';

-- A layer view template's inputs for the given keys (key_values): its
-- sources, each limited to those keys (a source is keyed like its
-- entities, so all the rows of a key are there).
CREATE FUNCTION omnikpi.inputs_of_keys(target_schema name, entity record, settings jsonb, key_values jsonb)
	RETURNS text[]
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	inputs text[] := omnikpi.layer_inputs(target_schema, entity.table_name, entity.keyed_by, settings -> 'given',
										  ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments')));
	condition text;
BEGIN
	FOR i IN 1 .. cardinality(inputs) LOOP
		-- a subquery (an absent source's rows: none) or no input at all
		CONTINUE WHEN inputs[i] IS NULL OR left(inputs[i], 1) = '(';
		condition := omnikpi.key_condition(inputs[i], 'input', key_values);
		IF condition IS NOT NULL THEN
			inputs[i] := format('(SELECT * FROM %s AS input WHERE %s)', inputs[i], condition);
		END IF;
	END LOOP;
	RETURN inputs;
END
$fn$;
COMMENT ON FUNCTION omnikpi.inputs_of_keys(name, record, jsonb, jsonb) IS
	'the inputs of a layer view template of create_kpi_views limited to the keys of a refresh written as constants';

-- The query of the rows of a layer view for the keys of key_values: the
-- template of the full rebuild, its sources limited to those keys.  Over
-- sources distributed by one of the key columns, Citus runs it whole on
-- the workers, each shard computing the entities of its own keys from its
-- own rows.
CREATE FUNCTION omnikpi.entity_rows_query(target_schema name, entity record, settings jsonb, key_values jsonb)
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	RETURN format(entity.definition, VARIADIC ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'))
				  || omnikpi.inputs_of_keys(target_schema, entity, settings, key_values));
END
$fn$;
COMMENT ON FUNCTION omnikpi.entity_rows_query(name, record, jsonb, jsonb) IS
	'the query of the rows of a layer view of create_kpi_views for the keys of a refresh written as constants, read from its sources';

-- On Citus, an entity table distributed by a column of its touched keys
-- (distribute_entity_tables) is maintained on the workers: its touched
-- entities are recomputed there from their source rows
-- (entity_rows_query), and only their new rows, with the stored ones, come
-- to the coordinator, to be compared there (as a multiset of text forms
-- per key, printed here in this function's settings, whatever the
-- workers') and added to the summaries; the changed keys' rows are then
-- deleted and inserted, each statement routed to the workers that hold
-- them.  The rows each entity is recomputed from stay on the workers.  An
-- entity kept per customer (journeys without ids, customer profiles,
-- conversion paths by customer) is recomputed from the customer's whole
-- history, as the full rebuild computes it: the window's shortcuts of one
-- node (refresh_entity_table) read temporary tables of the coordinator,
-- which would bring every input row there.  The keys' condition limits
-- each column apart, so it may take in a few more entities than were
-- touched (a touched customer's untouched journey with a touched journey's
-- id): they are recomputed and compared like the others, and come out the
-- same.  columns: the entity table's, listed.
CREATE FUNCTION omnikpi.refresh_entities_on_workers(target_schema name, entity record, settings jsonb, columns text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- floats in their shortest exact form, so that two different values
	-- never print alike
	SET extra_float_digits = 1
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation text := format('%I.%I', target_schema, entity.table_name);
	marks text := format('%I.%I', target_schema, entity.table_name || '_marks');
	changes name := 'kpi_changes_' || entity.table_name;
	keys text := array_to_string(ARRAY(SELECT format('%I', k)
									   FROM unnest(omnikpi.touched_key_columns(relation::regclass)) AS k), ', ');
	touched jsonb;
	changed jsonb;
BEGIN
	-- the touched keys' stored rows (-1) and new rows (1)
	EXECUTE format('CREATE TEMP TABLE kpi_touched_rows (sign integer, LIKE %s) ON COMMIT DROP', relation);
	IF EXISTS (SELECT FROM pg_temp.kpi_touched) THEN
		touched := omnikpi.key_values(relation::regclass, 'pg_temp.kpi_touched');
		EXECUTE format('INSERT INTO pg_temp.kpi_touched_rows
			SELECT -1, e.* FROM %s AS e WHERE %s
			UNION ALL
			SELECT 1, n.* FROM (%s) AS n', relation, omnikpi.key_condition(relation, 'e', touched),
					   omnikpi.entity_rows_query(target_schema, entity, settings, touched));
	END IF;
	-- the keys whose multiset of rows changed, and their rows: the changes
	EXECUTE format('CREATE TEMP TABLE kpi_changed_keys ON COMMIT DROP AS
		SELECT DISTINCT %1$s FROM pg_temp.kpi_touched_rows
		GROUP BY %1$s, ROW(%2$s)::text HAVING sum(sign) <> 0', keys, columns);
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT * FROM pg_temp.kpi_touched_rows WHERE (%s) IN (SELECT %s FROM pg_temp.kpi_changed_keys)',
				   changes, keys, keys);
	-- its size and signs only, as on one node (refresh_entity_table)
	EXECUTE format('ANALYZE pg_temp.%I (sign)', changes);
	IF EXISTS (SELECT FROM pg_temp.kpi_changed_keys) THEN
		changed := omnikpi.key_values(relation::regclass, 'pg_temp.kpi_changed_keys');
		EXECUTE format('DELETE FROM %s AS e WHERE %s', relation, omnikpi.key_condition(relation, 'e', changed));
		EXECUTE format('INSERT INTO %s SELECT %s FROM pg_temp.%I WHERE sign = 1', relation, columns, changes);
	END IF;
	DROP TABLE pg_temp.kpi_touched_rows;
	IF entity.marks IS NOT NULL AND touched IS NOT NULL THEN
		-- the marks of the touched keys, the others left out: the inputs'
		-- conditions may take in a few more
		EXECUTE format('DELETE FROM %s AS m WHERE %s', marks, omnikpi.key_condition(marks, 'm', touched));
		EXECUTE format('INSERT INTO %s SELECT m.* FROM (%s) AS m WHERE %s', marks,
					   format(entity.marks, VARIADIC args || omnikpi.inputs_of_keys(target_schema, entity, settings, touched)),
					   omnikpi.key_condition(marks, 'm', touched));
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_entities_on_workers(name, record, jsonb, text) IS
	'on Citus, recomputes the touched rows of a distributed entity table of the materialized form on the workers, replaces those that changed and writes the temporary table of its changes';

CREATE OR REPLACE FUNCTION omnikpi.refresh_entity_table(target_schema name, entity record, settings jsonb, since timestamptz[])
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- rows without a row_key are compared by their text form (below):
	-- floats in their shortest exact form, so that two different values
	-- never print alike
	SET extra_float_digits = 1
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	given jsonb := settings -> 'given';
	stored_from timestamptz[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'stored_from'))::timestamptz[];
	relation text := format('%I.%I', target_schema, entity.table_name);
	changes text := format('pg_temp.%I', 'kpi_changes_' || entity.table_name);
	inputs text[] := '{}';
	new_rows text;
	columns text;
	-- the stored rows of the touched keys, found through the key's index;
	-- the temporary tables are paired by matches alone
	stored_matches text := entity.matches || E'\n\tAND ' || entity.index_lookup;
BEGIN
	PERFORM omnikpi.drop_temp_tables(ARRAY['kpi_touched', 'kpi_input_1', 'kpi_input_2', 'kpi_old_rows', 'kpi_new_rows',
											'kpi_changed_rows', 'kpi_changed_keys', 'kpi_changes_' || entity.table_name]);
	EXECUTE 'CREATE TEMP TABLE kpi_touched ON COMMIT DROP AS '
		|| format(entity.touched || CASE WHEN given ? entity.optional_source THEN E'\n' || entity.touched_by_optional ELSE '' END,
				  VARIADIC args)
		USING since[1], since[2], since[3], since[4], stored_from[1], stored_from[2], stored_from[3], stored_from[4];
	ANALYZE pg_temp.kpi_touched;
	SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO columns
	FROM pg_attribute a WHERE a.attrelid = relation::regclass AND a.attnum > 0 AND NOT a.attisdropped;
	-- on Citus, an entity table distributed by one of the touched keys'
	-- columns is refreshed on the workers
	IF EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = to_regclass('pg_temp.kpi_touched')
			   AND a.attname = omnikpi.distribution_column(relation::regclass) AND NOT a.attisdropped) THEN
		PERFORM omnikpi.refresh_entities_on_workers(target_schema, entity, settings, columns);
		RETURN changes;
	END IF;
	-- the rows the template reads, for the touched keys only
	FOR i IN 1 .. cardinality(entity.inputs) LOOP
		EXECUTE format('CREATE TEMP TABLE kpi_input_%s ON COMMIT DROP AS SELECT * FROM %s AS input', i,
					   format(entity.inputs[i], VARIADIC args))
			USING since[1], since[2], since[3], since[4];
		EXECUTE format('ANALYZE pg_temp.kpi_input_%s', i);
		inputs := inputs || format('pg_temp.kpi_input_%s', i);
	END LOOP;
	IF entity.optional_source IS NOT NULL THEN
		inputs := inputs || CASE WHEN given ? entity.optional_source THEN format(entity.optional_input, VARIADIC args)
								 ELSE format(entity.absent_input, VARIADIC args || inputs) END;
	END IF;
	inputs := inputs || array_fill(NULL::text, ARRAY[2 - cardinality(inputs)]);
	new_rows := format(entity.definition, VARIADIC args || inputs);
	IF entity.recompute IS NOT NULL THEN
		new_rows := format(entity.recompute, VARIADIC args || inputs || new_rows);
	END IF;
	-- The old and new rows of the touched keys, compared by
	-- compare_entity_rows: rows without a row_key by their text forms,
	-- printed here.  The stored rows are deleted by key, not by form: on
	-- Citus an UPDATE or DELETE of a distributed table may not call a STABLE
	-- function such as a row's text form on its columns.
	EXECUTE format('CREATE TEMP TABLE kpi_old_rows ON COMMIT DROP AS
		SELECT %s e.* FROM %s AS e JOIN pg_temp.kpi_touched AS t ON %s',
				   CASE WHEN entity.row_key IS NULL THEN 'e::text AS form,' ELSE '' END, relation, stored_matches);
	PERFORM omnikpi.compute_entity_rows(entity, relation, columns, new_rows, since);
	PERFORM omnikpi.compare_entity_rows(entity, columns);
	-- its size and signs only: statistics of its array columns cost more
	-- than the plans that read it gain
	EXECUTE format('ANALYZE %s (sign)', changes);
	EXECUTE format('DELETE FROM %s AS e USING pg_temp.kpi_changed_keys AS t WHERE %s', relation, stored_matches);
	EXECUTE format('INSERT INTO %s SELECT %s FROM %s WHERE sign = 1', relation, columns, changes);
	IF entity.marks IS NOT NULL THEN
		-- through the key's index: the marks grow with the history
		EXECUTE format('DELETE FROM %I.%I AS m WHERE m.%I = ANY (ARRAY(SELECT t.%I FROM pg_temp.kpi_touched AS t))',
					   target_schema, entity.table_name || '_marks', entity.marks_key, entity.marks_key);
		EXECUTE format('INSERT INTO %I.%I ', target_schema, entity.table_name || '_marks')
			|| format(entity.marks, VARIADIC args || inputs);
	END IF;
	RETURN changes;
END
$fn$;

CREATE OR REPLACE FUNCTION omnikpi.add_to_summary(target_schema name, summary record, settings jsonb, changes text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation regclass := format('%I.%I', target_schema, summary.table_name)::regclass;
	-- the window starts of the refresh (settings' window_starts), the
	-- template's $1 to $4
	since timestamptz[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'window_starts'))::timestamptz[];
	measures name[];
	emptied tid[];
BEGIN
	SELECT array_agg(a.attname ORDER BY a.attnum) INTO measures
	FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> ALL (summary.key_columns);
	-- The rows whose count fell to 0 go, found by the row ids the upsert
	-- returns: a DELETE by the count would scan the whole table, which grows
	-- with the history.
	EXECUTE format($q$WITH delta AS (%s),
changed AS (
	INSERT INTO %s AS s SELECT * FROM delta WHERE (%s) IS DISTINCT FROM (%s)
	ON CONFLICT (%s) DO UPDATE SET %s
	RETURNING %s AS month, s.ctid AS row_id, s.%I = 0 AS emptied),
noted AS (
	INSERT INTO pg_temp.kpi_changed SELECT DISTINCT %L, month, false FROM changed)
SELECT array_agg(row_id) FILTER (WHERE emptied) FROM changed$q$,
		format(summary.definition, VARIADIC args || ARRAY[NULL, NULL, NULL, changes]),
		relation,
		(SELECT string_agg(format('%I', m), ', ') FROM unnest(measures) m),
		(SELECT string_agg('0', ', ') FROM unnest(measures) m),
		(SELECT string_agg(format('%I', k), ', ') FROM unnest(summary.key_columns) k),
		(SELECT string_agg(format('%1$I = s.%1$I + EXCLUDED.%1$I', m), ', ') FROM unnest(measures) m),
		coalesce(quote_ident(summary.period_column), 'NULL::date'),
		summary.count_column,
		summary.table_name)
		INTO emptied
		USING since[1], since[2], since[3], since[4];
	EXECUTE format('DELETE FROM %s WHERE ctid = ANY ($1) AND %I = 0', relation, summary.count_column) USING emptied;
END
$fn$;

-- The watermark of a source is the newest time, up to the refresh, of the
-- column that dates its rows (an order's ordered_at): neither returns
-- recorded ahead of orders loaded late nor a row dated in the future move
-- the window past rows that arrive inside it.  The refresh state's comments
-- say so (schemas made before keep theirs until create_kpi_views runs again).
CREATE OR REPLACE FUNCTION omnikpi.create_refresh_state(target_schema name, given jsonb, settings jsonb)
	RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	relation regclass;
BEGIN
	EXECUTE format($t$CREATE TABLE %I.kpi_refresh_state (
		source text PRIMARY KEY,
		time_zone text NOT NULL,
		watermark timestamptz,
		recomputed_from date,
		full_rebuild boolean,
		refreshed_at timestamptz,
		settings jsonb NOT NULL,
		window_from timestamptz)$t$, target_schema);
	relation := format('%I.kpi_refresh_state', target_schema)::regclass;
	EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
				   'refresh state of the materialized KPI views, per source: the watermark (the newest time of its rows the last refresh saw, up to the time of that refresh) from which omnikpi.refresh_kpi_views recomputes, minus its late_window');
	PERFORM omnikpi.comment_columns(relation, ARRAY[
		'source', 'the source: interactions, orders, touchpoints or conversions',
		'time_zone', 'the time zone days are cut in (create_kpi_views'' time_zone, by default the zone of the session that called it)',
		'watermark', 'newest time, up to the last refresh, of the column that dates the source''s rows (occurred_at, ordered_at, touched_at or converted_at; an order''s later times do not count); the next refresh recomputes the rows with any time from the day of watermark - late_window on',
		'recomputed_from', 'first day the last refresh recomputed (-infinity: all of them)',
		'full_rebuild', 'whether the last refresh recomputed everything',
		'refreshed_at', 'when the last refresh ran',
		'settings', 'the settings of create_kpi_views the refresh computes with (the same in every row)',
		'window_from', 'start of the window whose rows kpi_refresh_window keeps (NULL: none kept; the next refresh then recomputes every entity with a row in its window)']);
	EXECUTE format('INSERT INTO %s (source, time_zone, settings) SELECT s, $1, $2 FROM jsonb_object_keys($3) AS s', relation)
		USING settings #>> '{template_arguments,7}', settings, given;
	RETURN relation;
END
$fn$;

CREATE OR REPLACE FUNCTION omnikpi.refresh_materialized_form(target_schema name, full_rebuild boolean, late_window interval)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- JIT compiles a statement whose estimated cost passes a threshold, and
	-- the estimates grow with the stored history: an incremental refresh
	-- paid a second or more per statement that took less to run.
	SET jit = off
AS $fn$
DECLARE
	sources text[] := ARRAY['interactions', 'orders', 'touchpoints', 'conversions'];
	since timestamptz[] := ARRAY['infinity', 'infinity', 'infinity', 'infinity'];
	newest timestamptz[] := ARRAY[NULL, NULL, NULL, NULL];
	-- the start of the window whose rows kpi_refresh_window keeps, per source
	kept_from timestamptz[] := ARRAY[NULL, NULL, NULL, NULL];
	-- where the touched keys come from stored rows too (refresh_entity_table)
	stored_from timestamptz[] := ARRAY['infinity', 'infinity', 'infinity', 'infinity'];
	window_table regclass;
	source_newest timestamptz;
	state record;
	settings jsonb;
	args text[];
	zone text;
	rebuild boolean := full_rebuild;
	step record;
	changes text;
	inputs text[];
	from_day date;
	i integer;
	current_table text;
	failure_state text;
	failure_detail text;
	failure_hint text;
BEGIN
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	-- The watermark of each source, read before anything is recomputed so
	-- that it never claims rows the recomputation did not see: the newest
	-- time up to now() of the column that dates a row's arrival, the one
	-- time every row has (an order's ordered_at).  Not the newest of an
	-- order's times: returns recorded as they happen run ahead of orders
	-- loaded days late, and would move the window past an order that
	-- arrives inside it.  Not a row dated in the future either, which would
	-- move it to now() ahead of a source that runs behind; such a row is
	-- after the window's start, so every refresh reads it anyway.
	FOR state IN EXECUTE format('SELECT * FROM %I.kpi_refresh_state ORDER BY source', target_schema) LOOP
		settings := state.settings;
		i := array_position(sources, state.source);
		EXECUTE (SELECT format('SELECT max(%1$I) FROM %2$I.%3$I WHERE %1$I <= now()', c.column_name, target_schema,
							   'source_' || state.source)
				 FROM omnikpi.source_columns c WHERE c.source = state.source AND c.kind = 'time' AND c.row_needs_value)
			INTO source_newest;
		newest[i] := source_newest;
		rebuild := rebuild OR state.watermark IS NULL;
		since[i] := state.watermark - late_window;
		-- a schema made before kpi_refresh_window has no window_from
		kept_from[i] := (to_jsonb(state) ->> 'window_from')::timestamptz;
	END LOOP;
	args := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	zone := args[8];
	FOR i IN 1 .. 4 LOOP
		since[i] := CASE WHEN since[i] = 'infinity' THEN 'infinity'
						 WHEN rebuild THEN '-infinity'
						 ELSE ((since[i] AT TIME ZONE zone)::date)::timestamp AT TIME ZONE zone END;
	END LOOP;
	SELECT o.relation INTO window_table FROM omnikpi.kpi_objects(target_schema) o
	WHERE o.kind = 'refresh state' AND o.relation_name = 'kpi_refresh_window';

	PERFORM omnikpi.drop_temp_tables(ARRAY['kpi_changed']
		|| ARRAY(SELECT prefix || s FROM unnest(sources) s,
					   unnest(ARRAY['kpi_window_', 'kpi_window_forms_', 'kpi_window_changed_', 'kpi_delta_']) prefix)::name[]);
	CREATE TEMP TABLE kpi_changed (relation name, month date, and_later boolean) ON COMMIT DROP;
	BEGIN
		IF rebuild THEN
			-- DELETE, not TRUNCATE: readers of these tables are never blocked
			FOR step IN SELECT o.relation FROM omnikpi.kpi_objects(target_schema) o
						WHERE o.kind IN ('entity table', 'summary table') LOOP
				EXECUTE format('DELETE FROM %s', step.relation);
			END LOOP;
		ELSE
			-- Each source's rows in its window, read once, and those of them
			-- that changed since the last refresh: the entities touched are
			-- those of the changed rows, not every one with a row in the window.
			-- Without the last window's rows to compare with (a schema made
			-- before kpi_refresh_window, or a window that now starts earlier),
			-- every row of the window counts as changed, and the stored rows
			-- from its start on are touched too (they may have lost a row).
			FOR i IN 1 .. 4 LOOP
				CONTINUE WHEN since[i] = 'infinity';
				current_table := 'source_' || sources[i];
				PERFORM omnikpi.copy_window_rows(target_schema, sources[i], since[i]);
				IF window_table IS NOT NULL AND kept_from[i] <= since[i] THEN
					PERFORM omnikpi.window_changes(target_schema, sources[i], since[i], window_table);
				ELSE
					PERFORM omnikpi.window_changes(target_schema, sources[i], since[i], NULL);
					EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM pg_temp.%I',
								   'kpi_delta_' || sources[i], 'kpi_window_' || sources[i]);
					PERFORM omnikpi.analyze_keys('kpi_delta_' || sources[i], sources[i]);
					stored_from[i] := since[i];
				END IF;
			END LOOP;
		END IF;

		-- 1. daily tables
		FOR step IN SELECT d.* FROM omnikpi.kpi_daily_summaries d
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = d.table_name AND o.kind = 'summary table'
					ORDER BY d.table_name LOOP
			current_table := step.table_name;
			i := array_position(sources, step.source);
			from_day := CASE WHEN since[i] = '-infinity' THEN '-infinity' ELSE (since[i] AT TIME ZONE zone)::date END;
			EXECUTE format('DELETE FROM %I.%I WHERE day >= $1 OR day IS NULL', target_schema, step.table_name)
				USING from_day;
			EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name)
				|| format(step.definition, VARIADIC args || CASE WHEN rebuild THEN format('%I.%I', target_schema, 'source_' || step.source)
																 ELSE format('pg_temp.%I', 'kpi_window_' || step.source) END)
				USING since[i];
			INSERT INTO pg_temp.kpi_changed VALUES (step.table_name, date_trunc('month', from_day), true);
		END LOOP;

		-- 2. entity tables and the summaries added up from them
		FOR step IN SELECT e.*, l.definition, l.optional_source, l.absent_input
					FROM omnikpi.kpi_entity_tables e
					JOIN omnikpi.kpi_layer_views l ON l.view_name = e.table_name AND l.keyed_by = e.keyed_by
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = e.table_name AND o.kind = 'entity table'
					WHERE settings -> 'layers' ->> e.table_name::text = e.keyed_by
					ORDER BY e.position LOOP
			current_table := step.table_name;
			IF rebuild THEN
				inputs := omnikpi.layer_inputs(target_schema, step.table_name, step.keyed_by, settings -> 'given', args);
				EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name)
					|| format(step.definition, VARIADIC args || inputs);
				IF step.marks IS NOT NULL THEN
					EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name || '_marks')
						|| format(step.marks, VARIADIC args || inputs);
				END IF;
				-- fresh statistics, for the plans of the refreshes that follow
				EXECUTE format('ANALYZE %I.%I', target_schema, step.table_name);
				changes := format('(SELECT 1 AS sign, e.* FROM %I.%I AS e)', target_schema, step.table_name);
			ELSE
				changes := omnikpi.refresh_entity_table(target_schema, step,
														settings || jsonb_build_object('stored_from', stored_from), since);
			END IF;
			EXECUTE format('INSERT INTO pg_temp.kpi_changed SELECT DISTINCT %L, %s, false FROM %s AS changes',
						   step.table_name,
						   CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
											 WHERE a.attrelid = format('%I.%I', target_schema, step.table_name)::regclass
											   AND a.attname = 'month' AND NOT a.attisdropped)
								THEN 'month' ELSE 'NULL::date' END,
						   changes);
			FOR state IN SELECT s.* FROM omnikpi.kpi_summary_tables s
						 JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = s.table_name AND o.kind = 'summary table'
						 WHERE s.kind = 'delta' AND s.reads = ARRAY[step.table_name]
						 ORDER BY s.position LOOP
				current_table := state.table_name;
				PERFORM omnikpi.add_to_summary(target_schema, state, settings || jsonb_build_object('window_starts', since),
											   changes);
			END LOOP;
		END LOOP;

		-- 3. period summaries, then the KPI tables
		FOR step IN SELECT t.* FROM (
						SELECT s.table_name, s.reads, s.period_column, s.definition, 1 AS stage, s.position
						FROM omnikpi.kpi_summary_tables s
						WHERE s.kind = 'period'
						UNION ALL
						SELECT m.view_name, m.reads, m.period_column, coalesce(m.definition, v.definition), 2, v.position
						FROM omnikpi.kpi_materialized_views m
						JOIN omnikpi.kpi_views v USING (view_name)) AS t
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = t.table_name
						AND o.kind IN ('summary table', 'kpi view') AND o.relation_kind = 'r'
					ORDER BY t.stage, t.position LOOP
			current_table := step.table_name;
			PERFORM omnikpi.recompute_periods(target_schema, step.table_name, step.reads, step.period_column,
											  step.definition, settings, rebuild);
		END LOOP;

		-- 4. the window's rows, kept for the next refresh to compare with.
		-- After a full rebuild, those of the window the next refresh will
		-- most likely have (from the day of the new watermark - late_window).
		IF window_table IS NOT NULL THEN
			FOR i IN 1 .. 4 LOOP
				CONTINUE WHEN since[i] = 'infinity';
				current_table := 'kpi_refresh_window';
				IF rebuild THEN
					-- NULL when the source has no rows: none kept
					kept_from[i] := ((newest[i] - late_window) AT TIME ZONE zone)::date::timestamp AT TIME ZONE zone;
					IF kept_from[i] IS NOT NULL THEN
						PERFORM omnikpi.copy_window_rows(target_schema, sources[i], kept_from[i]);
						PERFORM omnikpi.window_changes(target_schema, sources[i], kept_from[i], NULL);
					END IF;
				ELSE
					kept_from[i] := since[i];
				END IF;
				PERFORM omnikpi.keep_window(sources[i], kept_from[i], window_table,
											NOT rebuild AND stored_from[i] = 'infinity');
			END LOOP;
		END IF;
	EXCEPTION WHEN OTHERS THEN
		-- A failure (a rating outside the scale, say) is raised again with
		-- its message, detail and hint, but not the generated statement; the
		-- transaction rolls back, so the old numbers stay.
		GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_detail = PG_EXCEPTION_DETAIL,
								failure_hint = PG_EXCEPTION_HINT;
		PERFORM omnikpi.raise_again(failure_state, SQLERRM,
			concat_ws(' ', nullif(failure_detail, ''),
					  format('The refresh of %I.%I stopped there; the KPI views keep their previous numbers.',
							 target_schema, current_table)),
			failure_hint);
	END;

	FOR i IN 1 .. 4 LOOP
		CONTINUE WHEN since[i] = 'infinity';
		EXECUTE format('UPDATE %I.kpi_refresh_state SET watermark = $1, recomputed_from = $2, full_rebuild = $3,
						refreshed_at = now() WHERE source = $4', target_schema)
			USING newest[i], CASE WHEN rebuild THEN '-infinity' ELSE (since[i] AT TIME ZONE zone)::date END, rebuild, sources[i];
		IF window_table IS NOT NULL THEN
			EXECUTE format('UPDATE %I.kpi_refresh_state SET window_from = $1 WHERE source = $2', target_schema)
				USING kept_from[i], sources[i];
		END IF;
	END LOOP;
	DROP TABLE pg_temp.kpi_changed;
END
$fn$;

-- Scale-out on Citus: the entity tables of the materialized form are
-- distributed and co-located with their distributed sources
-- (distribute_entity_tables, called by create_kpi_views); the ROPO check of
-- customer_orders is a join on the customer, which Citus plans in an
-- incremental refresh too; the source views translate vocabularies with a
-- searched CASE, which Citus keeps intact when it runs a full rebuild's
-- INSERT ... SELECT on the workers.  Schemas made before keep their views
-- and tables until create_kpi_views is called again.
CREATE OR REPLACE FUNCTION omnikpi.source_column_sql(plan jsonb, source text, column_name name, settings jsonb)
	RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	wanted record;
	c jsonb := plan #> ARRAY[source, 'columns', column_name::text];
	matched text;
BEGIN
	SELECT s.* INTO wanted FROM omnikpi.source_columns s WHERE s.source = source_column_sql.source AND s.column_name = source_column_sql.column_name;
	IF jsonb_typeof(c) IS DISTINCT FROM 'object' THEN
		RETURN NULL;
	END IF;
	IF wanted.vocabulary IS NOT NULL THEN
		matched := format('omnikpi.vocabulary_key((%s)::text)', c ->> 'sql');
		-- a searched CASE, not CASE key WHEN ...: Citus 12.1 turns the
		-- latter's WHEN into NULL when it runs an INSERT ... SELECT over the
		-- view on the workers (a full rebuild of distributed entity tables)
		IF plan #> ARRAY['translations', wanted.vocabulary] <> '{}' THEN
			matched := format('CASE %s ELSE %s END',
							  (SELECT string_agg(format('WHEN %s = %L THEN %L', matched, e.key, e.value #>> '{}'), ' ' ORDER BY e.key)
							   FROM jsonb_each(plan #> ARRAY['translations', wanted.vocabulary]) e),
							  matched);
		END IF;
		RETURN matched;
	END IF;
	RETURN CASE
		WHEN wanted.kind = 'time' AND c ->> 'base' = 'timestamp with time zone' THEN format('(%s)::timestamptz', c ->> 'sql')
		-- a date or a timestamp is local time in the recorded zone, whatever
		-- the zone of the session that reads
		WHEN wanted.kind = 'time' AND c ->> 'base' = 'timestamp without time zone'
			THEN format('((%s)::timestamp AT TIME ZONE %L)', c ->> 'sql', settings ->> 'time_zone')
		WHEN wanted.kind = 'time' THEN format('((%s)::date::timestamp AT TIME ZONE %L)', c ->> 'sql', settings ->> 'time_zone')
		WHEN wanted.read_as <> '' THEN format('(%s)::%s', c ->> 'sql', wanted.read_as)
		ELSE c ->> 'sql' END;
END
$fn$;

UPDATE omnikpi.kpi_layer_views SET definition = $v$SELECT o.customer_id, o.order_id, o.channel, o.ordered_at,
	date_trunc('month', o.ordered_at AT TIME ZONE %8$L)::date AS month,
	greatest(o.ordered_at, o.ready_at, o.collected_at, o.returned_at) AS last_event_at,
	o.amount, o.fulfillment,
	extract(epoch FROM o.ready_at - o.ordered_at) / 3600 AS ready_hours,
	extract(epoch FROM o.collected_at - o.ready_at) / 3600 AS wait_hours,
	o.returned_at, o.return_channel,
	CASE WHEN o.channel = ANY (%3$L::text[]) THEN true WHEN o.channel = ANY (%4$L::text[]) THEN false END AS in_store,
	CASE WHEN o.channel = ANY (%3$L::text[] || %4$L::text[]) THEN r.customer_id IS NOT NULL END AS preceded_by_other_side
FROM %13$s AS o
-- whether a contact on the other side came within the window depends on
-- the customer, channel and time of the order only: found by a join on the
-- customer, not a subquery correlated with each order, which Citus cannot
-- plan when the orders are the touched ones of a refresh, on the
-- coordinator, and the interactions are distributed
LEFT JOIN (
	SELECT DISTINCT p.customer_id, p.channel, p.ordered_at
	FROM %13$s AS p
	JOIN %14$s AS i ON i.customer_id = p.customer_id
	WHERE p.channel = ANY (%3$L::text[] || %4$L::text[])
	  AND i.channel = ANY (CASE WHEN p.channel = ANY (%3$L::text[]) THEN %4$L::text[] ELSE %3$L::text[] END)
	  AND i.occurred_at < p.ordered_at
	  AND i.occurred_at >= ((p.ordered_at AT TIME ZONE %8$L) - %2$L::interval) AT TIME ZONE %8$L) AS r
	ON r.customer_id = o.customer_id AND r.channel = o.channel AND r.ordered_at = o.ordered_at$v$
WHERE view_name = 'customer_orders' AND keyed_by = 'customer_id';

-- The column Citus distributes a table by (hash distribution), or NULL: a
-- table outside Citus' metadata, or no Citus at all (every call into Citus
-- is dynamic SQL, so omnikpi does not depend on it).
CREATE FUNCTION omnikpi.distribution_column(relation regclass) RETURNS name
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	column_name name;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE $q$SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
		FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1 AND p.partmethod = 'h'$q$
		INTO column_name USING relation;
	RETURN column_name;
END
$fn$;
COMMENT ON FUNCTION omnikpi.distribution_column(regclass) IS
	'the column Citus distributes the table by, or NULL when it is not a hash-distributed table';

-- On Citus, the entity tables whose source is a distributed table are
-- distributed too, by the column the source is distributed by and
-- co-located with it, so that a customer's (or journey's) entity rows live
-- on the worker that holds its source rows: a full rebuild then runs on the
-- workers (an INSERT ... SELECT between co-located tables), and the joins of
-- a refresh between entities and sources are joins on the distribution
-- column.  That column must be one the entity is keyed by (its key, or
-- customer_id: a journey, an issue or an order is one customer's), read
-- from the source as it is (not through an expression) and of the same
-- type; otherwise the table stays an ordinary table on the coordinator, as
-- every summary and KPI table does (they are small, and nothing joins them
-- with the sources).  Without Citus, or over sources outside its metadata,
-- nothing happens: every call into Citus is dynamic SQL, so omnikpi does not
-- depend on it.
CREATE FUNCTION omnikpi.distribute_entity_tables(target_schema name, plan jsonb, given jsonb, layers jsonb)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	entity record;
	source regclass;
	source_column name;
	source_type oid;
	key name;
	colocated text;
BEGIN
	FOR entity IN SELECT e.table_name, e.keyed_by, e.marks_key, l.sources[1] AS source
				  FROM omnikpi.kpi_entity_tables e
				  JOIN omnikpi.kpi_layer_views l ON l.view_name = e.table_name AND l.keyed_by = e.keyed_by
				  WHERE layers ->> e.table_name::text = e.keyed_by
				  ORDER BY e.position LOOP
		source := (given ->> entity.source)::oid;
		source_column := omnikpi.distribution_column(source);
		CONTINUE WHEN source_column IS NULL;
		SELECT a.atttypid INTO source_type FROM pg_attribute a WHERE a.attrelid = source AND a.attname = source_column;
		SELECT k.name INTO key
		FROM unnest(ARRAY[entity.keyed_by::name, 'customer_id']) WITH ORDINALITY AS k(name, n)
		JOIN pg_attribute a ON a.attrelid = format('%I.%I', target_schema, entity.table_name)::regclass
			AND a.attname = k.name AND a.atttypid = source_type
		WHERE plan #>> ARRAY[entity.source, 'columns', k.name::text, 'sql'] = quote_ident(source_column)
		ORDER BY k.n LIMIT 1;
		CONTINUE WHEN NOT FOUND;
		FOREACH colocated IN ARRAY ARRAY[entity.table_name::text]
				|| CASE WHEN entity.marks_key = key THEN ARRAY[entity.table_name || '_marks'] ELSE '{}' END LOOP
			EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)'
				USING format('%I.%I', target_schema, colocated)::regclass, key::text, source::text;
		END LOOP;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.distribute_entity_tables(name, jsonb, jsonb, jsonb) IS
	'on Citus, distributes the entity tables of the materialized form whose source is distributed by one of their keys, co-located with that source';

CREATE OR REPLACE FUNCTION omnikpi.create_kpi_views(
	target_schema name,
	interactions regclass DEFAULT NULL,
	orders regclass DEFAULT NULL,
	touchpoints regclass DEFAULT NULL,
	conversions regclass DEFAULT NULL,
	columns jsonb DEFAULT '{}',
	rating_scale_min double precision DEFAULT 1,
	rating_scale_max double precision DEFAULT 5,
	ropo_window interval DEFAULT '14 days',
	store_channels text[] DEFAULT '{store}',
	online_channels text[] DEFAULT '{web,app}',
	half_life interval DEFAULT '7 days',
	materialized boolean DEFAULT false,
	translations jsonb DEFAULT '{}',
	other_channels text[] DEFAULT '{call_center,chat,email,social,kiosk,sms,push,search,display,affiliate,referral,direct}',
	effort_scale_min double precision DEFAULT 1,
	effort_scale_max double precision DEFAULT 7,
	time_zone text DEFAULT NULL,
	lookback interval DEFAULT '30 days',
	max_touches integer DEFAULT NULL,
	exclude_channels text[] DEFAULT '{}',
	journey_gap interval DEFAULT '7 days')
	RETURNS TABLE (view_name name, status text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	settings jsonb;
	plan jsonb;
	given jsonb;
	template_args text[];
	sample_problems bigint;
	sample_details text;
	src text;
	source_columns_absent text[];
	kpi record;
	layer record;
	victim record;
	missing text[];
	absent text[];
	kpi_names name[];
	summary_table regclass;
	layers jsonb;
	planned name[] := '{}';
	kept regclass[] := '{}';
	legacy jsonb := '[]';
	made regclass[] := '{}';
	made_kinds text[] := '{}';
	clashes text;
	record_table regclass;
	failure_state text;
	failure_message text;
	failure_detail text;
	failure_hint text;
	outside_citus boolean;
	i integer;
BEGIN
	IF target_schema IS NULL THEN
		RAISE EXCEPTION 'target_schema must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF materialized IS NULL THEN
		RAISE EXCEPTION 'materialized must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Create it first: CREATE SCHEMA ' || quote_ident(target_schema) || ';';
	END IF;
	IF NOT (ropo_window > interval '0') OR NOT (half_life > interval '0') THEN
		RAISE EXCEPTION 'ropo_window and half_life must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	settings := omnikpi.source_settings(rating_scale_min, rating_scale_max, effort_scale_min, effort_scale_max,
										store_channels, online_channels, other_channels, exclude_channels,
										time_zone, lookback, max_touches, journey_gap);
	given := omnikpi.given_sources(interactions, orders, touchpoints, conversions);
	plan := omnikpi.resolve_sources(given, columns, translations);
	template_args := omnikpi.template_arguments(target_schema, settings, ropo_window, half_life);
	-- On a Citus coordinator, a view over tables outside Citus' metadata
	-- exists on the coordinator only, and Citus says so in a WARNING per
	-- view.  That is right for such sources, so when none of them is in the
	-- metadata, DDL propagation is off for this call (the function's SET
	-- clause ends it with the call).
	IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = ANY ($1))'
			INTO outside_citus USING ARRAY[interactions, orders, touchpoints, conversions];
		IF outside_citus THEN
			PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
		END IF;
	END IF;

	-- The cheap checks: the row and value checks of check_sources, on a
	-- sample of each source.  What they find is a WARNING, not an error:
	-- the views are made, and say what they leave out.
	SELECT count(*), string_agg(format('%s.%s: %s (%s %s%s).', u.source, p.column_name, p.problem, p.rows,
									   CASE WHEN p.rows = 1 THEN 'row' ELSE 'rows' END,
									   CASE WHEN p.example IS NOT NULL THEN format(', e.g. "%s"', p.example) ELSE '' END),
								E'\n' ORDER BY u.n, p.ordinality)
	INTO sample_problems, sample_details
	FROM unnest(ARRAY['interactions', 'orders', 'touchpoints', 'conversions']) WITH ORDINALITY AS u(source, n)
	CROSS JOIN LATERAL omnikpi.source_row_problems(plan, settings, u.source, 10000) WITH ORDINALITY AS p
	WHERE given ? u.source;
	IF sample_problems > 0 THEN
		RAISE WARNING '% in the source data (from up to 10000 rows of each source)',
			CASE WHEN sample_problems = 1 THEN 'one problem' ELSE sample_problems || ' problems' END
			USING DETAIL = sample_details,
				  HINT = 'omnikpi.check_sources(...), with the same source arguments, reads every row, checks across sources too, and gives the fix for each problem.';
	END IF;

	-- What this call makes, by name: the record, the source views, the
	-- layer views (or entity tables), the summary tables and their state,
	-- the KPI views (or tables).
	layers := omnikpi.kpi_layer_forms(plan, given);
	kpi_names := ARRAY(SELECT v.view_name FROM omnikpi.kpi_views v
					   WHERE v.sources <@ ARRAY(SELECT jsonb_object_keys(given))
						 AND omnikpi.absent_columns(plan, v.needs_columns) IS NULL
					   ORDER BY v.position);
	planned := ARRAY['kpi_objects']::name[]
		|| ARRAY(SELECT ('source_' || s)::name FROM jsonb_object_keys(given) s)
		|| ARRAY(SELECT l::name FROM jsonb_object_keys(layers) l)
		|| CASE WHEN materialized THEN ARRAY(SELECT omnikpi.summary_tables_for(kpi_names)) || 'kpi_refresh_state'::name
				ELSE '{}' END
		|| kpi_names;

	-- A refresh of this schema in progress finishes first.  A relation of
	-- the user's never gives way to one of ours.
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	kept := ARRAY(SELECT o.relation FROM omnikpi.kpi_objects(target_schema) o);
	IF omnikpi.kpi_object_record(target_schema) IS NULL THEN
		-- a schema of omnikpi 0.1.0 (or none): its views are to be recorded
		legacy := (SELECT coalesce(jsonb_agg(jsonb_build_array(o.relation::oid, o.kind)), '[]')
				   FROM omnikpi.kpi_objects(target_schema) o);
	END IF;
	SELECT string_agg(format('%I.%I', target_schema, c.relname), ', ' ORDER BY c.relname) INTO clashes
	FROM pg_class c
	WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = target_schema)
	  AND c.relname = ANY (planned) AND c.oid <> ALL (kept);
	IF clashes IS NOT NULL THEN
		RAISE EXCEPTION 'schema "%" already holds relations create_kpi_views would make', target_schema
			USING ERRCODE = 'duplicate_table',
				  DETAIL = format('%s %s not made by create_kpi_views (they are not in the schema''s kpi_objects record).',
								  clashes, CASE WHEN clashes LIKE '%,%' THEN 'were' ELSE 'was' END),
				  HINT = 'Rename or drop them, or create the KPI views in a schema of their own.';
	END IF;

	BEGIN
		-- The record first, so that everything below is recorded in it.
		record_table := omnikpi.kpi_object_record(target_schema);
		IF record_table IS NULL THEN
			EXECUTE format($t$CREATE TABLE %I.kpi_objects (
				relation regclass PRIMARY KEY,
				kind text NOT NULL CHECK (kind IN ('record', 'source view', 'layer view', 'kpi view',
												   'entity table', 'summary table', 'refresh state')),
				made_at timestamptz NOT NULL DEFAULT now())$t$, target_schema);
			record_table := format('%I.kpi_objects', target_schema)::regclass;
			EXECUTE format('COMMENT ON TABLE %s IS %L', record_table,
						   'the relations omnikpi.create_kpi_views made in this schema; drop_kpi_views, refresh_kpi_views and grant_bi_access act on these and nothing else');
			EXECUTE format('COMMENT ON COLUMN %s.relation IS %L', record_table, 'the relation');
			EXECUTE format('COMMENT ON COLUMN %s.kind IS %L', record_table,
						   'record, source view, layer view, kpi view (a view, or a table in the materialized form), entity table, summary table or refresh state');
			EXECUTE format('COMMENT ON COLUMN %s.made_at IS %L', record_table, 'when create_kpi_views last made it');
			-- Whoever may use the schema may know what in it is omnikpi's (as
			-- pg_class tells them anyway): refresh_kpi_views and
			-- schedule_refresh read the record as the role that calls them.
			EXECUTE format('GRANT SELECT ON %s TO PUBLIC', record_table);
			EXECUTE format('INSERT INTO %s VALUES ($1, ''record'')', record_table) USING record_table;
			EXECUTE format('INSERT INTO %s (relation, kind) SELECT (e ->> 0)::oid, e ->> 1 FROM jsonb_array_elements($1) e',
						   record_table) USING legacy;
		END IF;
		EXECUTE format('DELETE FROM %s r WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = r.relation)',
					   record_table);
		made := ARRAY[record_table];
		made_kinds := ARRAY['record'];
		view_name := 'kpi_objects';
		status := 'created';
		RETURN NEXT;

		-- The materialized form made earlier goes; it is made afresh below,
		-- or replaced by plain views.  Its tables take the names of the
		-- plain KPI and layer views, which give way to them.
		FOR victim IN SELECT * FROM omnikpi.materialized_objects(target_schema) LOOP
			EXECUTE format('DROP %s %I.%I', CASE victim.relation_kind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
						   target_schema, victim.relation_name);
		END LOOP;
		IF materialized THEN
			FOR victim IN SELECT * FROM omnikpi.kpi_objects(target_schema) o
						  WHERE o.kind IN ('kpi view', 'layer view') AND o.relation_kind = 'v' LOOP
				EXECUTE format('DROP VIEW %s', victim.relation);
			END LOOP;
		END IF;

		-- The source views, then the journey views over them.
		FOR src IN SELECT s FROM unnest(ARRAY['interactions', 'orders', 'touchpoints', 'conversions']) WITH ORDINALITY u(s, n)
				   WHERE given ? s ORDER BY n LOOP
			made := made || omnikpi.replace_kpi_view(target_schema, 'source_' || src,
													 omnikpi.source_select_sql(plan, src, settings, true));
			made_kinds := made_kinds || 'source view'::text;
			EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, 'source_' || src,
						   format('%s as omnikpi reads them, from %s: mapped, vocabularies matched, times in %s, rows without a channel or time left out',
								  src, plan #>> ARRAY[src, 'relation_name'], settings ->> 'time_zone'));
			FOR kpi IN SELECT c.column_name, c.description FROM omnikpi.source_columns c WHERE c.source = src LOOP
				EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', target_schema, 'source_' || src,
							   kpi.column_name, kpi.description
							   || CASE WHEN omnikpi.plan_has_column(plan, src || '.' || kpi.column_name) THEN ''
									   ELSE ' (absent: always NULL)' END);
			END LOOP;
			view_name := 'source_' || src;
			status := 'created';
			RETURN NEXT;
		END LOOP;
		-- The layer views over them, or in the materialized form the entity
		-- tables that keep them, the summary tables and the refresh state.
		FOR layer IN SELECT l.* FROM omnikpi.kpi_layer_views l
					 WHERE layers ->> l.view_name::text = l.keyed_by ORDER BY l.view_name LOOP
			IF materialized THEN
				made := made || ARRAY(SELECT omnikpi.create_entity_table(target_schema, layer.view_name, layer.keyed_by, given,
																		 template_args));
				made_kinds := made_kinds || array_fill('entity table'::text, ARRAY[cardinality(made) - cardinality(made_kinds)]);
			ELSE
				made := made || omnikpi.replace_kpi_view(target_schema, layer.view_name,
					format(layer.definition, VARIADIC template_args
						   || omnikpi.layer_inputs(target_schema, layer.view_name, layer.keyed_by, given, template_args)));
				made_kinds := made_kinds || 'layer view'::text;
				EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, layer.view_name, layer.description);
				PERFORM omnikpi.comment_columns(made[cardinality(made)], layer.column_comments);
			END IF;
			view_name := layer.view_name;
			status := 'created';
			RETURN NEXT;
		END LOOP;
		IF materialized THEN
			PERFORM omnikpi.distribute_entity_tables(target_schema, plan, given, layers);
			FOR summary_table IN SELECT omnikpi.create_summary_tables(target_schema, kpi_names) LOOP
				made := made || summary_table;
				made_kinds := made_kinds || 'summary table'::text;
				view_name := (SELECT c.relname FROM pg_class c WHERE c.oid = summary_table);
				status := 'created';
				RETURN NEXT;
			END LOOP;
			made := made || omnikpi.create_refresh_state(target_schema, given, jsonb_build_object(
				'template_arguments', to_jsonb(template_args), 'layers', layers, 'given', given));
			made_kinds := made_kinds || 'refresh state'::text;
			view_name := 'kpi_refresh_state';
			status := 'created';
			RETURN NEXT;
			made := made || omnikpi.create_refresh_window(target_schema);
			made_kinds := made_kinds || 'refresh state'::text;
			view_name := 'kpi_refresh_window';
			RETURN NEXT;
		END IF;

		FOR kpi IN SELECT v.* FROM omnikpi.kpi_views v ORDER BY v.position LOOP
			view_name := kpi.view_name;
			SELECT array_agg(s ORDER BY s) INTO missing FROM unnest(kpi.sources) s WHERE NOT given ? s;
			IF missing IS NOT NULL THEN
				status := 'skipped: needs ' || array_to_string(missing, ' and ');
				RAISE NOTICE 'view %.% not created: it needs %', target_schema, kpi.view_name,
					array_to_string(missing, ' and ');
				RETURN NEXT;
				CONTINUE;
			END IF;
			missing := omnikpi.absent_columns(plan, kpi.needs_columns);
			IF missing IS NOT NULL THEN
				status := 'skipped: needs ' || array_to_string(missing, ' and ');
				RAISE NOTICE 'view %.% not created: it needs %, which the source does not have',
					target_schema, kpi.view_name, array_to_string(missing, ' and ');
				RETURN NEXT;
				CONTINUE;
			END IF;
			absent := omnikpi.absent_columns(plan, kpi.optional_columns);
			IF absent IS NOT NULL THEN
				RAISE NOTICE 'view %.% created without %, which the source does not have: what it computes from it is empty',
					target_schema, kpi.view_name, array_to_string(absent, ' and ');
			END IF;
			IF materialized THEN
				made := made || omnikpi.create_kpi_table(target_schema, kpi.view_name, template_args);
				EXECUTE format('COMMENT ON TABLE %I.%I IS %L', target_schema, kpi.view_name,
							   kpi.description || '; materialized, refreshed by omnikpi.refresh_kpi_views');
				status := 'materialized';
			ELSE
				made := made || omnikpi.replace_kpi_view(target_schema, kpi.view_name,
														 format(kpi.definition, VARIADIC template_args));
				EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, kpi.view_name, kpi.description);
				status := 'created';
			END IF;
			made_kinds := made_kinds || 'kpi view'::text;
			PERFORM omnikpi.comment_columns(made[cardinality(made)], kpi.column_comments);
			RETURN NEXT;
		END LOOP;

		-- Record what was made; what an earlier call made and this one did
		-- not make again goes (views that now lack a source, say).
		EXECUTE format('INSERT INTO %s (relation, kind) SELECT * FROM unnest($1, $2)
						ON CONFLICT (relation) DO UPDATE SET kind = EXCLUDED.kind, made_at = now()', record_table)
			USING made, made_kinds;
		FOR victim IN SELECT * FROM omnikpi.kpi_objects(target_schema) o WHERE o.relation <> ALL (made) LOOP
			EXECUTE format('DROP %s %s', CASE victim.relation_kind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
											 ELSE 'TABLE' END, victim.relation);
		END LOOP;
		-- what went, here or above, leaves the record: its OID may be reused
		EXECUTE format('DELETE FROM %s r WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = r.relation)',
					   record_table);
		-- the refresh finds the tables to fill by the record; it keeps the
		-- window of refresh_kpi_views' default late_window for the next one
		IF materialized THEN
			PERFORM omnikpi.refresh_materialized_form(target_schema, true, interval '3 days');
		END IF;
	EXCEPTION WHEN OTHERS THEN
		-- the same error, without the generated statement in its context
		GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_message = MESSAGE_TEXT,
								failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
		PERFORM omnikpi.raise_again(failure_state, failure_message,
			concat_ws(' ', nullif(failure_detail, ''), format('create_kpi_views changed nothing in schema "%s".', target_schema)),
			failure_hint);
	END;
END
$fn$;

-- engagement_depth reads per customer only the channels, the last contact
-- and the revenue it needs, grouped by customer (pushed down whole on
-- Citus), instead of the whole customer profiles, whose days and active
-- months it never used: several times faster on one node and distributed.
UPDATE omnikpi.kpi_views SET description = 'Customers by engagement depth (number of channels they used: 1, 2, 3, 4+) with retention, churn and revenue per customer; a customer is retained when active (any contact) in the 90 days before the latest contact in the data, else churned; customers as in customer_profiles',
	definition = $v$WITH customers AS (
	SELECT customer_id, count(*) AS channel_count, max(last_at) AS last_at
	FROM (SELECT customer_id, channel, max(occurred_at) AS last_at
		  FROM %1$I.source_interactions
		  WHERE customer_id IS NOT NULL
		  GROUP BY customer_id, channel) AS per_channel
	GROUP BY customer_id),
revenue AS (
	SELECT customer_id, sum(amount) AS revenue
	FROM %1$I.source_orders
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id),
data_end AS (
	SELECT ((max(occurred_at) AT TIME ZONE %8$L) - interval '90 days') AT TIME ZONE %8$L AS active_since
	FROM %1$I.source_interactions)
SELECT CASE WHEN c.channel_count >= 4 THEN '4+' ELSE c.channel_count::text END AS channel_depth,
	count(*) AS customers,
	100 * avg((c.last_at > e.active_since)::integer)::double precision AS retained_pct,
	100 * avg((c.last_at <= e.active_since)::integer)::double precision AS churned_pct,
	(sum(coalesce(o.revenue, 0)) / count(*))::double precision AS revenue_per_customer
FROM customers c LEFT JOIN revenue o USING (customer_id) CROSS JOIN data_end e
GROUP BY 1$v$
WHERE view_name = 'engagement_depth';

-- fulfillment_by_channel_monthly computes its counts and its percentiles
-- apart, so that on Citus the counts run as worker partials and only the
-- BOPIS orders' hours reach the coordinator.
UPDATE omnikpi.kpi_views SET definition = $v$WITH classified AS NOT MATERIALIZED (
	SELECT month, channel, fulfillment = 'bopis' AS bopis, ready_hours, wait_hours
	FROM %1$I.customer_orders),
counts AS (
	SELECT month, channel, count(*) AS orders, count(*) FILTER (WHERE bopis) AS bopis_orders
	FROM classified
	GROUP BY 1, 2),
percentiles AS (
	SELECT month, channel,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_median_hours,
		(percentile_cont(0.9) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_p90_hours,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_hours))::double precision AS pickup_wait_median_hours
	FROM classified
	WHERE bopis
	GROUP BY 1, 2)
SELECT c.month, c.channel, c.orders, c.bopis_orders,
	(100.0 * c.bopis_orders / c.orders)::double precision AS bopis_share_pct,
	p.click_to_collect_median_hours, p.click_to_collect_p90_hours, p.pickup_wait_median_hours
FROM counts c LEFT JOIN percentiles p USING (month, channel)$v$
WHERE view_name = 'fulfillment_by_channel_monthly';


-- A refresh recomputes only the entities whose source rows changed since the
-- last refresh, not every one with a row in the late window: it keeps the
-- window's rows (kpi_refresh_window, made by create_kpi_views from now on;
-- kpi_refresh_state gains window_from) and compares the next window with
-- them.  The touched keys come from the changed rows
-- (pg_temp.kpi_delta_<source>), and from the stored rows only when there is
-- no kept window to compare with ($5 to $8); the window's rows an entity
-- reads are those of the touched keys; an order is touched by a changed
-- contact before it; a profile whose channels the window cannot change
-- keeps them.  Schemas made before keep refreshing as before until
-- create_kpi_views makes them again.  The touched keys and inputs are set
-- whole here, and so is the profiles' template with the merge described
-- above.  Without journey ids, each touched customer's last journey (and
-- last conversion with a path) before the window is found by DISTINCT ON
-- over the touched customers, not by a LATERAL subquery: Citus plans no
-- lateral outer join from the touched customers (a temporary table) to a
-- distributed entity table.
UPDATE omnikpi.kpi_entity_tables SET
	touched = $t$SELECT customer_id, order_id FROM pg_temp.kpi_delta_orders
UNION
SELECT customer_id, order_id FROM %1$I.customer_orders WHERE last_event_at >= $6$t$,
	touched_by_optional = $t$UNION
SELECT customer_id, order_id FROM %1$I.customer_orders
WHERE ordered_at >= greatest($1, (SELECT min(occurred_at) FROM pg_temp.kpi_delta_interactions))
  AND customer_id IN (SELECT customer_id FROM pg_temp.kpi_delta_interactions)
UNION
SELECT customer_id, order_id FROM %1$I.customer_orders WHERE ordered_at >= $5$t$
WHERE table_name = 'customer_orders' AND keyed_by = 'customer_id';
UPDATE omnikpi.kpi_entity_tables SET
	touched = $t$SELECT customer_id, journey_id FROM pg_temp.kpi_delta_interactions WHERE journey_id IS NOT NULL
UNION
SELECT customer_id, journey_id FROM %1$I.interaction_journeys WHERE ended_at >= $5$t$,
	inputs = ARRAY[$i$(SELECT e.customer_id, e.journey_id, c.channel, c.occurred_at, c.phase, c.context_carried
	FROM %1$I.interaction_journeys AS e
	JOIN pg_temp.kpi_touched AS t ON e.journey_id = t.journey_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.phases, e.context_carried) AS c(channel, occurred_at, phase, context_carried)
	WHERE c.occurred_at < $1 AND e.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched))
	UNION ALL
	SELECT w.customer_id, w.journey_id, w.channel, w.occurred_at, w.phase, w.context_carried
	FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.journey_id = t.journey_id AND w.customer_id IS NOT DISTINCT FROM t.customer_id)$i$]
WHERE table_name = 'interaction_journeys' AND keyed_by = 'journey_id';
UPDATE omnikpi.kpi_entity_tables SET
	touched = $t$WITH c AS (
	SELECT customer_id FROM pg_temp.kpi_delta_interactions WHERE customer_id IS NOT NULL
	UNION
	SELECT customer_id FROM %1$I.interaction_journeys WHERE ended_at >= $5)
SELECT c.customer_id, coalesce(k.started_at, '-infinity') AS since, coalesce(k.journey_no, 1) AS first_journey_no
FROM c
LEFT JOIN (
	SELECT DISTINCT ON (j.customer_id) j.customer_id, j.started_at, j.journey_no FROM %1$I.interaction_journeys AS j
	WHERE j.customer_id IN (SELECT customer_id FROM c) AND j.started_at < $1
	ORDER BY j.customer_id, j.started_at DESC) AS k ON k.customer_id = c.customer_id$t$,
	inputs = ARRAY[$i$(SELECT e.customer_id, e.journey_id, c.channel, c.occurred_at, c.phase, c.context_carried
	FROM %1$I.interaction_journeys AS e
	JOIN pg_temp.kpi_touched AS t ON e.customer_id = t.customer_id AND e.started_at >= t.since
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.phases, e.context_carried) AS c(channel, occurred_at, phase, context_carried)
	WHERE c.occurred_at < $1 AND e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))
	UNION ALL
	SELECT w.customer_id, w.journey_id, w.channel, w.occurred_at, w.phase, w.context_carried
	FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.customer_id = t.customer_id)$i$]
WHERE table_name = 'interaction_journeys' AND keyed_by = 'customer_id';
UPDATE omnikpi.kpi_entity_tables SET
	touched = $t$SELECT customer_id, issue_id FROM pg_temp.kpi_delta_interactions WHERE issue_id IS NOT NULL
UNION
SELECT customer_id, issue_id FROM %1$I.interaction_issues WHERE last_contact_at >= $5$t$,
	inputs = ARRAY[$i$(SELECT e.customer_id, e.issue_id, c.channel, c.occurred_at, c.resolved
	FROM %1$I.interaction_issues AS e
	JOIN pg_temp.kpi_touched AS t ON e.issue_id = t.issue_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.resolutions) AS c(channel, occurred_at, resolved)
	WHERE c.occurred_at < $1 AND e.issue_id = ANY (ARRAY(SELECT issue_id FROM pg_temp.kpi_touched))
	UNION ALL
	SELECT w.customer_id, w.issue_id, w.channel, w.occurred_at, w.resolved
	FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.issue_id = t.issue_id AND w.customer_id IS NOT DISTINCT FROM t.customer_id)$i$]
WHERE table_name = 'interaction_issues' AND keyed_by = 'customer_id';
UPDATE omnikpi.kpi_entity_tables SET
	touched = $t$SELECT customer_id FROM pg_temp.kpi_delta_interactions WHERE customer_id IS NOT NULL
UNION
SELECT customer_id FROM %1$I.customer_profiles WHERE last_at >= $5$t$,
	inputs = ARRAY[$i$(SELECT w.customer_id, w.channel, w.occurred_at FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.customer_id = t.customer_id)$i$],
	recompute = $r$WITH window_contacts AS (
	SELECT customer_id, channel, occurred_at, (occurred_at AT TIME ZONE %8$L)::date AS day FROM %13$s AS w),
bounds AS (
	SELECT ($1 AT TIME ZONE %8$L)::date AS first_day, date_trunc('month', $1 AT TIME ZONE %8$L)::date AS first_month),
stored AS (
	SELECT e.*, coalesce(width_bucket(b.first_day - 1, e.contact_days), 0) AS kept_days,
		coalesce(width_bucket(b.first_month - 1, e.active_months), 0) AS kept_months
	FROM %1$I.customer_profiles AS e JOIN pg_temp.kpi_touched AS t USING (customer_id) CROSS JOIN bounds AS b
	WHERE e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))),
window_channels AS (
	SELECT customer_id, channel, min(occurred_at) AS first_at FROM window_contacts GROUP BY 1, 2),
-- the customers whose channel use the window can change: without a stored
-- profile, with a channel in the window the profile has not, or with one
-- the profile first used in the window; the others keep theirs
new_channels AS (
	SELECT w.customer_id FROM window_channels AS w LEFT JOIN stored AS s USING (customer_id)
	WHERE s.customer_id IS NULL OR w.channel <> ALL (s.channels)
	UNION
	SELECT s.customer_id FROM stored AS s WHERE EXISTS (SELECT FROM unnest(s.channel_first_times) AS t WHERE t >= $1)),
channel_firsts AS (
	SELECT s.customer_id, c.channel, c.first_at
	FROM stored AS s CROSS JOIN LATERAL unnest(s.channels, s.channel_first_times) AS c(channel, first_at)
	WHERE c.first_at < $1 AND s.customer_id IN (SELECT customer_id FROM new_channels)
	UNION ALL
	SELECT customer_id, channel, first_at FROM window_channels WHERE customer_id IN (SELECT customer_id FROM new_channels)),
channel_use AS (
	SELECT customer_id, min(first_at) AS first_at,
		(array_agg(channel ORDER BY first_at, channel))[1] AS acquisition_channel,
		array_agg(channel ORDER BY channel) AS channels,
		array_agg(first_at ORDER BY channel) AS channel_first_times
	FROM (SELECT customer_id, channel, min(first_at) AS first_at FROM channel_firsts GROUP BY 1, 2) AS c
	GROUP BY customer_id
	UNION ALL
	SELECT customer_id, first_at, acquisition_channel, channels, channel_first_times
	FROM stored WHERE customer_id NOT IN (SELECT customer_id FROM new_channels)),
window_days AS (
	SELECT customer_id, array_agg(day ORDER BY day) AS days, array_agg(last_at ORDER BY day) AS last_times
	FROM (SELECT customer_id, day, max(occurred_at) AS last_at FROM window_contacts GROUP BY 1, 2) AS d
	GROUP BY customer_id),
activity AS (
	SELECT customer_id, s.contact_days[1:s.kept_days] || w.days AS contact_days,
		s.day_last_times[1:s.kept_days] || w.last_times AS day_last_times,
		-- months with a contact: the stored count, less the months only the
		-- days from the window's first day on had, plus the window's
		coalesce(s.contact_months, 0)
			- (SELECT count(DISTINCT date_trunc('month', d::timestamp)) FROM unnest(s.contact_days[s.kept_days + 1:]) AS d)
			+ (SELECT count(DISTINCT date_trunc('month', d::timestamp)) FROM unnest(w.days) AS d)
			+ coalesce(date_trunc('month', s.contact_days[s.kept_days]::timestamp)
					   = date_trunc('month', s.contact_days[s.kept_days + 1]::timestamp), false)::integer
			- coalesce(date_trunc('month', s.contact_days[s.kept_days]::timestamp)
					   = date_trunc('month', w.days[1]::timestamp), false)::integer
			AS contact_months,
		s.active_months[1:s.kept_months] AS kept_active_months, coalesce(s.kept_days, 0) AS kept_days
	FROM stored AS s FULL JOIN window_days AS w USING (customer_id)),
recent_active AS (
	-- active months from the window's month on come from the last day
	-- before the window (all days before it lie in that month or earlier,
	-- so the latest reaches furthest) and the window's days
	SELECT r.customer_id, array_agg(DISTINCT m.month ORDER BY m.month) FILTER (WHERE m.month >= r.first_month) AS months
	FROM (SELECT a.customer_id, b.first_month, max(d) AS last_day
		  FROM activity AS a CROSS JOIN bounds AS b
		  CROSS JOIN LATERAL unnest(a.contact_days[greatest(a.kept_days, 1):]) AS d
		  GROUP BY a.customer_id, b.first_month, date_trunc('month', d::timestamp)) AS r
	CROSS JOIN LATERAL omnikpi.months_active_after(r.last_day) AS m(month)
	GROUP BY r.customer_id),
order_changes AS (
	SELECT customer_id, bool_or(sign = 0) AS recounted, sum(sign) AS orders, sum(amount * sign) AS revenue
	FROM %14$s AS source_rows
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id)
SELECT c.customer_id, c.first_at, a.day_last_times[cardinality(a.day_last_times)] AS last_at, c.acquisition_channel,
	c.channels, cardinality(c.channels) AS channel_count, a.contact_days, a.contact_months::integer,
	a.kept_active_months || coalesce(r.months, '{}') AS active_months,
	CASE WHEN o.recounted THEN o.orders ELSE coalesce(s.orders, 0) + coalesce(o.orders, 0) END AS orders,
	CASE WHEN o.recounted THEN o.revenue WHEN o.revenue IS NULL THEN s.revenue
		 ELSE coalesce(s.revenue, 0) + o.revenue END AS revenue,
	c.channel_first_times, a.day_last_times
FROM channel_use AS c
JOIN activity AS a USING (customer_id)
LEFT JOIN recent_active AS r USING (customer_id)
LEFT JOIN order_changes AS o USING (customer_id)
LEFT JOIN stored AS s USING (customer_id)
WHERE cardinality(a.contact_days) > 0$r$
WHERE table_name = 'customer_profiles' AND keyed_by = 'customer_id';
UPDATE omnikpi.kpi_entity_tables SET
	touched = $t$SELECT journey_id FROM pg_temp.kpi_delta_touchpoints WHERE journey_id IS NOT NULL
UNION
SELECT journey_id FROM pg_temp.kpi_delta_conversions WHERE journey_id IS NOT NULL
UNION
SELECT journey_id FROM %1$I.attribution_paths
WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($7, $8)
UNION
SELECT journey_id FROM %1$I.attribution_paths_marks WHERE last_converted_at >= least($7, $8)$t$
WHERE table_name = 'attribution_paths' AND keyed_by = 'journey_id';
UPDATE omnikpi.kpi_entity_tables SET
	touched = $t$WITH c AS (
	SELECT customer_id FROM pg_temp.kpi_delta_touchpoints WHERE customer_id IS NOT NULL
	UNION
	SELECT customer_id FROM pg_temp.kpi_delta_conversions WHERE customer_id IS NOT NULL
	UNION
	SELECT customer_id FROM %1$I.attribution_paths
	WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($7, $8)
	UNION
	SELECT customer_id FROM %1$I.attribution_paths_marks WHERE last_converted_at >= least($7, $8))
SELECT c.customer_id, k.converted_at AS since, coalesce(k.cycle, 0) AS base_cycle
FROM c
LEFT JOIN (
	SELECT DISTINCT ON (p.customer_id) p.customer_id, p.converted_at, p.cycle FROM %1$I.attribution_paths AS p
	WHERE p.customer_id IN (SELECT customer_id FROM c) AND p.converted_at < least($3, $4)
	ORDER BY p.customer_id, p.cycle DESC) AS k ON k.customer_id = c.customer_id$t$
WHERE table_name = 'attribution_paths' AND keyed_by = 'customer_id';
-- fulfillment_by_channel_monthly reads only the months a refresh recomputes
UPDATE omnikpi.kpi_materialized_views SET definition = $v$WITH classified AS NOT MATERIALIZED (
	SELECT month, channel, fulfillment = 'bopis' AS bopis, ready_hours, wait_hours
	FROM %1$I.customer_orders
	WHERE month >= $1 OR month = ANY ($2)),
counts AS (
	SELECT month, channel, count(*) AS orders, count(*) FILTER (WHERE bopis) AS bopis_orders
	FROM classified
	GROUP BY 1, 2),
percentiles AS (
	SELECT month, channel,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_median_hours,
		(percentile_cont(0.9) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_p90_hours,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_hours))::double precision AS pickup_wait_median_hours
	FROM classified
	WHERE bopis
	GROUP BY 1, 2)
SELECT c.month, c.channel, c.orders, c.bopis_orders,
	(100.0 * c.bopis_orders / c.orders)::double precision AS bopis_share_pct,
	p.click_to_collect_median_hours, p.click_to_collect_p90_hours, p.pickup_wait_median_hours
FROM counts c LEFT JOIN percentiles p USING (month, channel)$v$
WHERE view_name = 'fulfillment_by_channel_monthly';

CREATE FUNCTION omnikpi.create_refresh_window(target_schema name) RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	relation regclass;
BEGIN
	EXECUTE format('CREATE TABLE %I.kpi_refresh_window (source text NOT NULL, latest_at timestamptz, form text NOT NULL)',
				   target_schema);
	relation := format('%I.kpi_refresh_window', target_schema)::regclass;
	EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
				   'the sources'' rows in the window of the last refresh of the materialized KPI views, which the next refresh compares its window with to recompute only the entities whose rows changed; copies of the raw rows, never granted by grant_bi_access');
	PERFORM omnikpi.comment_columns(relation, ARRAY[
		'source', 'the source: interactions, orders, touchpoints or conversions',
		'latest_at', 'the latest of the row''s times',
		'form', 'the row of the source view, in its text form']);
	RETURN relation;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_refresh_window(name) IS
	'creates the table in which the refresh of the materialized form keeps the rows of its window';

CREATE FUNCTION omnikpi.analyze_keys(temp_table name, source text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	EXECUTE format('ANALYZE pg_temp.%I (%s)', temp_table,
				   (SELECT string_agg(format('%I', c.column_name), ', ' ORDER BY c.position)
					FROM omnikpi.source_columns c WHERE c.source = analyze_keys.source AND c.kind IN ('id', 'time')));
END
$fn$;
COMMENT ON FUNCTION omnikpi.analyze_keys(name, text) IS
	'analyzes the key and time columns of a temporary table of source rows of the refresh of the materialized form';

CREATE FUNCTION omnikpi.copy_window_rows(target_schema name, source text, since timestamptz) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM %I.%I WHERE %s',
				   'kpi_window_' || source, target_schema, 'source_' || source,
				   (SELECT string_agg(format('%I >= $1', c.column_name), ' OR ' ORDER BY c.position)
					FROM omnikpi.source_columns c WHERE c.source = copy_window_rows.source AND c.kind = 'time'))
		USING since;
	PERFORM omnikpi.analyze_keys('kpi_window_' || source, source);
END
$fn$;
COMMENT ON FUNCTION omnikpi.copy_window_rows(name, text, timestamptz) IS
	'copies the rows of a source of the materialized form with a time from since on into a temporary table of the refresh';

CREATE FUNCTION omnikpi.window_changes(target_schema name, source text, since timestamptz, window_table regclass)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = 'postgres'
	SET TimeZone = 'UTC'
	SET extra_float_digits = 1
	SET bytea_output = 'hex'
AS $fn$
BEGIN
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT greatest(%s) AS latest_at, w::text AS form FROM pg_temp.%I AS w',
				   'kpi_window_forms_' || source,
				   (SELECT string_agg(format('w.%I', c.column_name), ', ' ORDER BY c.position)
					FROM omnikpi.source_columns c WHERE c.source = window_changes.source AND c.kind = 'time'),
				   'kpi_window_' || source);
	IF window_table IS NULL THEN
		RETURN;
	END IF;
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT form FROM (SELECT form, 1 AS sign FROM pg_temp.%I
						  UNION ALL
						  SELECT form, -1 FROM %s WHERE source = $1 AND latest_at >= $2) AS f
		GROUP BY form HAVING sum(sign) <> 0',
				   'kpi_window_changed_' || source, 'kpi_window_forms_' || source, window_table)
		USING source, since;
	-- OFFSET 0 reads each changed form once, not once per column
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT (r.source_row).* FROM (SELECT c.form::%I.%I AS source_row FROM pg_temp.%I AS c OFFSET 0) AS r',
				   'kpi_delta_' || source, target_schema, 'source_' || source, 'kpi_window_changed_' || source);
	PERFORM omnikpi.analyze_keys('kpi_delta_' || source, source);
END
$fn$;
COMMENT ON FUNCTION omnikpi.window_changes(name, text, timestamptz, regclass) IS
	'collects the rows of a source''s window that changed since the last refresh of the materialized form (new, updated and deleted), comparing them with the rows kpi_refresh_window kept';

CREATE FUNCTION omnikpi.keep_window(source text, kept_from timestamptz, window_table regclass, changed_only boolean)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF changed_only THEN
		EXECUTE format('DELETE FROM %s WHERE source = $1 AND (latest_at < $2 OR form IN (SELECT form FROM pg_temp.%I))',
					   window_table, 'kpi_window_changed_' || source)
			USING source, kept_from;
		EXECUTE format('INSERT INTO %s (source, latest_at, form) SELECT $1, latest_at, form FROM pg_temp.%I
						WHERE form IN (SELECT form FROM pg_temp.%I)',
					   window_table, 'kpi_window_forms_' || source, 'kpi_window_changed_' || source)
			USING source;
		RETURN;
	END IF;
	-- DELETE, not TRUNCATE: a refresh needs no more privileges than that
	EXECUTE format('DELETE FROM %s WHERE source = $1', window_table) USING source;
	IF kept_from IS NOT NULL THEN
		EXECUTE format('INSERT INTO %s (source, latest_at, form) SELECT $1, latest_at, form FROM pg_temp.%I',
					   window_table, 'kpi_window_forms_' || source)
			USING source;
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.keep_window(text, timestamptz, regclass, boolean) IS
	'keeps the rows of a source''s window in kpi_refresh_window, for the next refresh of the materialized form to compare with';

CREATE FUNCTION omnikpi.compute_entity_rows(entity record, relation text, columns text, new_rows text,
											since timestamptz[])
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET enable_nestloop = off
	-- rows without a row_key are compared by their text form (below):
	-- floats in their shortest exact form, so that two different values
	-- never print alike
	SET extra_float_digits = 1
AS $fn$
BEGIN
	IF entity.row_key IS NULL THEN
		EXECUTE format('CREATE TEMP TABLE kpi_new_rows ON COMMIT DROP AS SELECT n::text AS form, n.* FROM (%s) AS n', new_rows)
			USING since[1], since[2], since[3], since[4];
	ELSE
		-- the table's own column types, which the binary images need
		EXECUTE format('CREATE TEMP TABLE kpi_new_rows (LIKE %s) ON COMMIT DROP', relation);
		EXECUTE format('INSERT INTO pg_temp.kpi_new_rows (%1$s) SELECT %1$s FROM (%2$s) AS n', columns, new_rows)
			USING since[1], since[2], since[3], since[4];
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.compute_entity_rows(record, text, text, text, timestamptz[]) IS
	'computes the new rows of the touched entities of a refresh of the materialized form';

CREATE FUNCTION omnikpi.compare_entity_rows(entity record, columns text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET enable_nestloop = off
AS $fn$
DECLARE
	-- the test a new row no touched key claims must pass to be inserted
	unclaimed text;
BEGIN
	-- Only the entities that change are replaced and reach the summaries:
	-- most touched entities come out the same (a journey that only reaches
	-- into the window, say), and rewriting them would cost index updates
	-- that grow with the stored history.  A touched key with a stored or new
	-- row that has no equal on the other side has all its stored rows
	-- replaced by all its new ones, so the result is the new rows,
	-- duplicates and NULLs included.  Rows with a row_key are paired by it
	-- and compared by their binary images (record_image_eq, as REFRESH
	-- MATERIALIZED VIEW CONCURRENTLY does: 1.0 and 1.00 differ, as their
	-- text does), which costs neither printing nor hashing their arrays; the
	-- others are compared as a multiset of their text forms.
	IF entity.row_key IS NULL THEN
		CREATE TEMP TABLE kpi_changed_rows ON COMMIT DROP AS
		SELECT c.form FROM (SELECT o.form, -1 AS sign FROM pg_temp.kpi_old_rows AS o
							UNION ALL
							SELECT n.form, 1 FROM pg_temp.kpi_new_rows AS n) AS c
		GROUP BY c.form HAVING sum(c.sign) <> 0;
		EXECUTE format('CREATE TEMP TABLE kpi_changed_keys ON COMMIT DROP AS
			SELECT DISTINCT t.* FROM pg_temp.kpi_touched AS t
			JOIN (SELECT form, %2$s FROM pg_temp.kpi_old_rows UNION ALL SELECT form, %2$s FROM pg_temp.kpi_new_rows) AS e
				ON %1$s
			WHERE e.form IN (SELECT form FROM pg_temp.kpi_changed_rows)', entity.matches, columns);
		unclaimed := E'e.form IN (SELECT form FROM pg_temp.kpi_changed_rows)\n\t\t\tAND ';
	ELSE
		EXECUTE format('CREATE TEMP TABLE kpi_changed_keys ON COMMIT DROP AS
			SELECT DISTINCT t.* FROM pg_temp.kpi_touched AS t
			JOIN (SELECT %3$s FROM pg_temp.kpi_old_rows AS o FULL JOIN pg_temp.kpi_new_rows AS n ON %2$s
				  WHERE o.%4$I IS NULL OR n.%4$I IS NULL OR NOT o OPERATOR(pg_catalog.*=) n) AS e
				ON %1$s', entity.matches,
					   (SELECT string_agg(format('o.%1$I = n.%1$I', k), ' AND ') FROM unnest(entity.row_key) k),
					   (SELECT string_agg(format('coalesce(o.%1$I, n.%1$I) AS %1$I', k), ', ') FROM unnest(entity.row_key) k),
					   entity.row_key[1]);
		unclaimed := '';
	END IF;
	ANALYZE pg_temp.kpi_changed_keys;
	-- the old rows are those the DELETE of refresh_entity_table removes; the
	-- new rows, those of the changed keys and any changed one no key claims
	-- (two branches, not one OR: under an OR the test of the form is a
	-- subplan, searched row by row when the forms do not fit in work_mem for
	-- hashing)
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT -1 AS sign, %2$s FROM pg_temp.kpi_old_rows AS e
		WHERE EXISTS (SELECT FROM pg_temp.kpi_changed_keys AS t WHERE %3$s)
		UNION ALL
		SELECT 1, %2$s FROM pg_temp.kpi_new_rows AS e
		WHERE EXISTS (SELECT FROM pg_temp.kpi_changed_keys AS t WHERE %3$s)
		UNION ALL
		SELECT 1, %2$s FROM pg_temp.kpi_new_rows AS e
		WHERE %4$sNOT EXISTS (SELECT FROM pg_temp.kpi_touched AS t WHERE %3$s)',
				   'kpi_changes_' || entity.table_name, columns, entity.matches, unclaimed);
END
$fn$;
COMMENT ON FUNCTION omnikpi.compare_entity_rows(record, text) IS
	'compares the old and new rows of the touched entities of a refresh of the materialized form and writes the changed keys and the signed changes';

CREATE OR REPLACE FUNCTION omnikpi.recompute_periods(target_schema name, table_name name, reads name[], period_column name,
										  definition text, settings jsonb, rebuild boolean)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation regclass := format('%I.%I', target_schema, table_name)::regclass;
	unit text := CASE period_column WHEN 'quarter' THEN 'quarter' ELSE 'month' END;
	touched boolean;
	whole boolean;
	lower date;
	months date[];
BEGIN
	SELECT count(*) > 0, bool_or(c.month IS NULL) OR bool_or(c.and_later AND c.month = '-infinity'),
		date_trunc(unit, min(c.month) FILTER (WHERE c.and_later))::date,
		array_agg(DISTINCT date_trunc(unit, c.month)::date) FILTER (WHERE NOT c.and_later)
	INTO touched, whole, lower, months
	FROM pg_temp.kpi_changed c WHERE c.relation = ANY (reads);
	IF NOT (touched OR rebuild) THEN
		RETURN;
	END IF;
	definition := format(definition, VARIADIC args);
	IF rebuild OR whole OR period_column IS NULL THEN
		EXECUTE format('DELETE FROM %s', relation);
		EXECUTE format('INSERT INTO %s SELECT * FROM (%s) AS d', relation, definition)
			USING date '-infinity', '{}'::date[];
		INSERT INTO pg_temp.kpi_changed VALUES (table_name, CASE WHEN period_column IS NOT NULL THEN date '-infinity' END, true);
		RETURN;
	END IF;
	lower := coalesce(lower, 'infinity');
	months := coalesce(months, '{}');
	EXECUTE format('DELETE FROM %s WHERE %I >= $1 OR %I = ANY ($2)', relation, period_column, period_column)
		USING lower, months;
	EXECUTE format('INSERT INTO %s SELECT * FROM (%s) AS d WHERE d.%I >= $1 OR d.%I = ANY ($2)', relation, definition,
				   period_column, period_column)
		USING lower, months;
	INSERT INTO pg_temp.kpi_changed
	SELECT table_name, lower, true WHERE lower < 'infinity'
	UNION ALL
	SELECT table_name, m, false FROM unnest(months) m;
END
$fn$;

CREATE OR REPLACE FUNCTION omnikpi.grant_bi_access(role name, target_schema name, include_sources boolean DEFAULT false)
	RETURNS TABLE (object text, privilege text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	role_id oid;
	is_superuser boolean;
	kpi record;
	source regclass;
	granted_sources oid[] := '{}';
	skipped text[] := '{}';
	found_kpi boolean := false;
BEGIN
	IF role IS NULL OR target_schema IS NULL OR include_sources IS NULL THEN
		RAISE EXCEPTION 'role, target_schema and include_sources must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF lower(role) = 'public' THEN
		RAISE EXCEPTION 'cannot grant BI access to PUBLIC'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the BI tool''s own role; grant that role to other roles to share the access.';
	END IF;
	SELECT r.oid, r.rolsuper INTO role_id, is_superuser FROM pg_catalog.pg_roles r WHERE r.rolname = grant_bi_access.role;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role "%" does not exist', role
			USING ERRCODE = 'undefined_object',
				  HINT = format('Create a read-only login role first, e.g. CREATE ROLE %I LOGIN PASSWORD ''...'';', role);
	END IF;
	IF is_superuser THEN
		RAISE EXCEPTION 'role "%" is a superuser', role
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A superuser can read and write everything, whatever is granted.',
				  HINT = 'Give the BI tool a role of its own without SUPERUSER.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Name the schema where omnikpi.create_kpi_views made the KPI views.';
	END IF;

	-- The KPI relations are those create_kpi_views made, as the schema's
	-- record says (omnikpi.kpi_objects), but the record itself.  For each,
	-- the relations the querying role needs SELECT on: itself, and through
	-- every security_invoker view on the way, what that view reads.  A view
	-- without security_invoker, a materialized view or a table reads the rest
	-- with its owner's privileges, so the walk stops there.
	FOR kpi IN
		WITH RECURSIVE kpi_relations AS (
			SELECT o.relation::oid AS oid, o.kind
			FROM omnikpi.kpi_objects(target_schema) o
			-- the refresh's copy of the window's raw rows is no KPI
			WHERE o.kind <> 'record' AND NOT (o.kind = 'refresh state' AND o.relation_name = 'kpi_refresh_window')
		), needs(root, rel) AS (
			SELECT k.oid, k.oid FROM kpi_relations k
			UNION
			SELECT needs.root, d.refobjid
			FROM needs
			JOIN pg_catalog.pg_class v ON v.oid = needs.rel AND v.relkind = 'v'
			JOIN pg_catalog.pg_rewrite w ON w.ev_class = v.oid
			JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
				AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
				AND d.refobjid <> v.oid
			JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p', 'v', 'm', 'f')
			WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_options_to_table(v.reloptions) o
						  WHERE o.option_name = 'security_invoker' AND o.option_value::boolean)
		)
		SELECT k.oid::regclass AS relation, k.kind,
			-- what lies outside the KPI schema and the role cannot read yet
			array_agg(DISTINCT n.rel) FILTER (
				WHERE n.rel NOT IN (SELECT oid FROM kpi_relations)
				  AND NOT pg_catalog.has_table_privilege(role_id, n.rel, 'SELECT')) AS sources
		FROM kpi_relations k JOIN needs n ON n.root = k.oid
		GROUP BY k.oid, k.kind
		ORDER BY k.oid::regclass::text
	LOOP
		IF NOT found_kpi THEN
			found_kpi := true;
			IF NOT has_schema_privilege(target_schema, 'USAGE WITH GRANT OPTION') THEN
				-- GRANT itself would only warn and grant nothing.
				RAISE EXCEPTION 'permission denied to grant USAGE on schema %', target_schema
					USING ERRCODE = 'insufficient_privilege',
						  HINT = 'Run grant_bi_access as the owner of the KPI views (or a role they granted WITH GRANT OPTION).';
			END IF;
			EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', target_schema, role);
			object := format('schema %I', target_schema);
			privilege := 'USAGE';
			RETURN NEXT;
			-- For ad-hoc queries with omnikpi's functions (rollup() over a
			-- daily summary, say); the views themselves do not need it.
			IF NOT has_schema_privilege(role_id, '@extschema@', 'USAGE')
			   AND has_schema_privilege('@extschema@', 'USAGE WITH GRANT OPTION') THEN
				EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', '@extschema@', role);
				object := format('schema %I', '@extschema@');
				RETURN NEXT;
			END IF;
		END IF;
		IF kpi.sources IS NOT NULL AND NOT include_sources THEN
			-- A source view is no KPI: the materialized form's readers never
			-- need it, and the plain views that do are counted themselves.
			IF kpi.kind <> 'source view' THEN
				skipped := skipped || kpi.relation::text;
			END IF;
			object := kpi.relation::text;
			privilege := 'none: reads ' || (SELECT string_agg(s::regclass::text, ', ' ORDER BY s::regclass::text)
											FROM unnest(kpi.sources) s)
						 || ' as the querying role';
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF EXISTS (SELECT 1 FROM unnest(kpi.sources || kpi.relation::oid) r
				   WHERE NOT has_table_privilege(r, 'SELECT WITH GRANT OPTION')) THEN
			RAISE EXCEPTION 'permission denied to grant SELECT on %', kpi.relation
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = CASE WHEN kpi.sources IS NOT NULL THEN
						  format('Reading it needs SELECT on %s too.', (SELECT string_agg(s::regclass::text, ', ' ORDER BY s::regclass::text) FROM unnest(kpi.sources) s)) END,
					  HINT = 'Run grant_bi_access as the owner of the KPI views and their source tables.';
		END IF;
		FOREACH source IN ARRAY coalesce(kpi.sources, '{}') LOOP
			CONTINUE WHEN source = ANY (granted_sources);
			EXECUTE format('GRANT SELECT ON TABLE %s TO %I', source, role);
			granted_sources := granted_sources || source::oid;
			object := source::text;
			privilege := 'SELECT (source)';
			RETURN NEXT;
		END LOOP;
		EXECUTE format('GRANT SELECT ON TABLE %s TO %I', kpi.relation, role);
		object := kpi.relation::text;
		privilege := 'SELECT';
		RETURN NEXT;
	END LOOP;

	IF NOT found_kpi THEN
		RAISE EXCEPTION 'schema "%" holds no KPI views of omnikpi', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them first with omnikpi.create_kpi_views.';
	END IF;
	IF skipped <> '{}' THEN
		RAISE NOTICE 'role "%" was not granted % of schema "%"', role,
			CASE WHEN cardinality(skipped) = 1 THEN 'one view' ELSE cardinality(skipped) || ' views' END, target_schema
			USING DETAIL = 'Those views read the source tables with the privileges of the role that queries them (security_invoker), and the role cannot read those tables.',
				  HINT = 'Materialized KPI views need no access to the source tables. To grant the plain views with SELECT on their source tables, call grant_bi_access again with include_sources => true.';
	END IF;
END
$fn$;
