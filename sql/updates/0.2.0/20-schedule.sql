
-- ---------------------------------------------------------------------------
-- Scheduling the refresh of materialized KPI views with pg_cron.
--
-- pg_cron is optional: nothing here refers to it when the extension is
-- created, every call into it is dynamic SQL, and without it the functions
-- say how to set it up.  pg_cron keeps its jobs in the one database named by
-- cron.database_name and runs them there, as the role that scheduled them, so
-- omnikpi schedules from that database only.  Any other scheduler can run the
-- same command, CALL omnikpi.refresh_kpi_views('schema').
-- ---------------------------------------------------------------------------

-- The pg_cron job name of a schema's refresh.  pg_cron stores job names as
-- type name (63 bytes) and would cut a longer one, so two long schema names
-- with a common prefix could end up sharing one job: those get a hash instead.
CREATE FUNCTION omnikpi.refresh_job_name(target_schema name)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT CASE WHEN octet_length('omnikpi_refresh_' || target_schema) <= 63
	THEN 'omnikpi_refresh_' || target_schema
	ELSE 'omnikpi_refresh_' || md5(target_schema::text) END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_job_name(name) IS
	'the pg_cron job name schedule_refresh gives the refresh of target_schema (omnikpi_refresh_<schema>, or a hash of a long name)';

-- pg_cron checks a schedule itself, but only once it is installed, and it
-- takes some nonsense (a sixth field, a range running backwards); checking
-- here gives the same clear error with or without pg_cron.
CREATE FUNCTION omnikpi.check_cron_schedule(schedule text)
	RETURNS text
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	fields text[];
	field_names text[] := '{minute,hour,day of month,month,day of week}';
	lows integer[] := '{0,0,1,1,0}';
	highs integer[] := '{59,23,31,12,7}';
	month_names text[] := '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}';
	day_names text[] := '{sun,mon,tue,wed,thu,fri,sat}';
	item text;
	parts text[];
	bound text;
	bound_value integer;
	range_values integer[];
	problem text;
	i integer;
BEGIN
	IF schedule IS NULL THEN
		RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	fields := regexp_split_to_array(btrim(schedule, E' \t\n\r'), E'[ \t\n\r]+');
	IF array_length(fields, 1) = 1 AND lower(fields[1]) IN
		('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly') THEN
		RETURN lower(fields[1]);
	END IF;
	IF array_length(fields, 1) = 1 AND fields[1] LIKE '@%' THEN
		problem := format('"%s" is not one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly and @annually.', fields[1]);
	ELSIF array_length(fields, 1) <> 5 THEN
		problem := format('A schedule has five fields (minute, hour, day of month, month, day of week), or is one of @hourly, @daily, @weekly, @monthly and @yearly; this one has %s.',
						  CASE WHEN fields = '{""}' THEN 'none' ELSE array_length(fields, 1)::text END);
	END IF;

	<<fields_loop>>
	FOR i IN 1 .. CASE WHEN problem IS NULL THEN 5 ELSE 0 END LOOP
		FOREACH item IN ARRAY string_to_array(fields[i], ',') LOOP
			-- item: * or a or a-b, then optionally /step (after * or a range)
			parts := regexp_match(item, '^(\*|[0-9a-zA-Z]+(?:-[0-9a-zA-Z]+)?)(?:/([0-9]+))?$');
			IF parts IS NULL OR (parts[2] IS NOT NULL AND parts[1] !~ '^\*$|-') THEN
				problem := format('The %s field "%s" is not a number, a range a-b, * or one of those followed by /step, separated by commas.',
								  field_names[i], fields[i]);
				EXIT fields_loop;
			END IF;
			IF parts[2] IS NOT NULL AND NOT (parts[2]::numeric BETWEEN 1 AND highs[i]) THEN
				problem := format('The step "/%s" of the %s field must be between 1 and %s.', parts[2], field_names[i], highs[i]);
				EXIT fields_loop;
			END IF;
			CONTINUE WHEN parts[1] = '*';
			range_values := '{}';
			FOREACH bound IN ARRAY string_to_array(parts[1], '-') LOOP
				bound_value := CASE
					WHEN bound ~ '^[0-9]{1,9}$' THEN bound::integer
					WHEN i = 4 THEN array_position(month_names, lower(bound))
					WHEN i = 5 THEN array_position(day_names, lower(bound)) - 1
				END;
				IF bound_value IS NULL OR NOT (bound_value BETWEEN lows[i] AND highs[i]) THEN
					problem := format('"%s" is not a valid %s: %s.', bound, field_names[i],
									  CASE i WHEN 4 THEN 'use 1 to 12 or jan to dec'
											 WHEN 5 THEN 'use 0 to 7 (0 and 7 are Sunday) or sun to sat'
											 ELSE format('use %s to %s', lows[i], highs[i]) END);
					EXIT fields_loop;
				END IF;
				range_values := range_values || bound_value;
			END LOOP;
			IF range_values[2] < range_values[1] THEN
				problem := format('The range "%s" of the %s field runs backwards.', parts[1], field_names[i]);
				EXIT fields_loop;
			END IF;
		END LOOP;
	END LOOP;

	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid cron schedule "%"', schedule
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = problem,
				  HINT = 'For example ''15 2 * * *'' runs daily at 02:15 and ''*/30 * * * *'' every half hour; pg_cron 1.4 reads schedules in GMT and runs a job at most once a minute.';
	END IF;
	RETURN array_to_string(fields, ' ');
END
$fn$;
COMMENT ON FUNCTION omnikpi.check_cron_schedule(text) IS
	'checks a five-field cron schedule (or @hourly, @daily, ...) as schedule_refresh does, and returns it with single spaces';

-- Whether pg_cron can take jobs from this database, or the error that says
-- what is missing.  Which database pg_cron serves is only readable by roles
-- with pg_read_all_settings; for others the general advice has to do.
CREATE FUNCTION omnikpi.check_pg_cron()
	RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	cron_version text;
	cron_database text;
	package text := format('postgresql-%s-cron', current_setting('server_version_num')::integer / 10000);
BEGIN
	SELECT e.extversion INTO cron_version FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_cron';
	IF FOUND THEN
		-- First, as looking up anything in schema cron needs USAGE on it.
		IF NOT has_schema_privilege('cron', 'USAGE') THEN
			RAISE EXCEPTION 'permission denied for schema cron'
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'pg_cron lets only the roles with USAGE on its schema schedule jobs.',
					  HINT = format('A superuser can allow it: GRANT USAGE ON SCHEMA cron TO %I;', current_user);
		END IF;
		-- Named jobs, which make re-scheduling replace a job, came with pg_cron 1.3.
		IF to_regprocedure('cron.schedule(text,text,text)') IS NULL
		   AND to_regprocedure('cron.schedule(name,text,text)') IS NULL THEN
			RAISE EXCEPTION 'pg_cron % cannot schedule named jobs', cron_version
				USING ERRCODE = 'feature_not_supported',
					  HINT = 'Update it to 1.3 or later: ALTER EXTENSION pg_cron UPDATE;';
		END IF;
		RETURN cron_version;
	END IF;

	SELECT s.setting INTO cron_database FROM pg_catalog.pg_settings s WHERE s.name = 'cron.database_name';
	IF cron_database = current_database() THEN
		RAISE EXCEPTION 'extension "pg_cron" is not installed in database "%"', current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Run CREATE EXTENSION pg_cron; in it as a superuser.';
	ELSIF cron_database IS NOT NULL THEN
		RAISE EXCEPTION 'pg_cron runs its jobs in database "%", not in "%"', cron_database, current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'cron.database_name names the one database whose jobs pg_cron runs.',
				  HINT = format('Set cron.database_name = %L in postgresql.conf and restart the server, or run CALL omnikpi.refresh_kpi_views(...) from another scheduler.',
								current_database());
	END IF;
	RAISE EXCEPTION 'pg_cron is not available in database "%"', current_database()
		USING ERRCODE = 'object_not_in_prerequisite_state',
			  HINT = format('Install the Debian package %s, set shared_preload_libraries = ''pg_cron'' and cron.database_name = %L in postgresql.conf, restart the server and run CREATE EXTENSION pg_cron; in that database. Without pg_cron, run CALL omnikpi.refresh_kpi_views(...) from another scheduler.',
							package, current_database());
END
$fn$;
COMMENT ON FUNCTION omnikpi.check_pg_cron() IS
	'returns the version of pg_cron if it can schedule jobs from this database, and otherwise raises an error saying how to set it up';

CREATE FUNCTION omnikpi.schedule_refresh(target_schema name, schedule text DEFAULT '15 2 * * *')
	RETURNS bigint
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	job_name text;
	cron_schedule text;
	command text;
	other_owner text;
	owner_name name;
	old_job record;
	job_id bigint;
BEGIN
	IF target_schema IS NULL THEN
		RAISE EXCEPTION 'target_schema must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Name the schema of your materialized KPI views, created with omnikpi.create_kpi_views(..., materialized => true).';
	END IF;
	-- The job would fail every time on a schema the refresh cannot refresh.
	IF NOT EXISTS (SELECT 1 FROM omnikpi.materialized_objects(target_schema) o
				   WHERE o.relation_kind = 'r' AND o.relation_name = 'kpi_refresh_state') THEN
		RAISE EXCEPTION 'schema "%" has no materialized KPI views', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them first with omnikpi.create_kpi_views(' || quote_literal(target_schema)
						 || ', interactions => ..., materialized => true).';
	END IF;
	cron_schedule := omnikpi.check_cron_schedule(schedule);
	PERFORM omnikpi.check_pg_cron();
	-- The job runs as the role that schedules it, and REFRESH MATERIALIZED
	-- VIEW needs its owner.
	SELECT pg_catalog.pg_get_userbyid(c.relowner) INTO owner_name
	FROM omnikpi.materialized_objects(target_schema) o
	JOIN pg_catalog.pg_class c ON c.relname = o.relation_name
		AND c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema)
	WHERE NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
	LIMIT 1;
	IF owner_name IS NOT NULL THEN
		RAISE EXCEPTION 'role "%" cannot refresh the materialized KPI views of schema "%"', current_user, target_schema
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The job runs as the role that schedules it, and refreshing a materialized view takes its owner.',
				  HINT = format('Schedule it as role %I.', owner_name);
	END IF;

	job_name := omnikpi.refresh_job_name(target_schema);
	command := format('CALL omnikpi.refresh_kpi_views(%L)', target_schema);

	-- pg_cron keys named jobs by name and role: another role's job for the
	-- same schema would make a second, concurrent refresh.  Only a superuser
	-- sees other roles' jobs, so this catches what it can.
	EXECUTE 'SELECT j.username FROM cron.job j WHERE j.jobname = $1 AND j.username <> $2 LIMIT 1'
		INTO other_owner USING job_name, current_user::text;
	IF other_owner IS NOT NULL THEN
		RAISE EXCEPTION 'the refresh of schema "%" is already scheduled by role "%"', target_schema, other_owner
			USING ERRCODE = 'duplicate_object',
				  HINT = format('Unschedule it as that role first: SET ROLE %I; SELECT omnikpi.unschedule_refresh(%L);',
								other_owner, target_schema);
	END IF;

	-- Re-scheduling a job by name updates its schedule and command but keeps
	-- it paused if someone paused it (cron.alter_job), and keeps the database
	-- it was moved to: such a job is replaced by a fresh one.
	EXECUTE 'SELECT j.jobid, j.active, j.database, j.schedule FROM cron.job j WHERE j.jobname = $1 AND j.username = $2'
		INTO old_job USING job_name, current_user::text;
	IF old_job.jobid IS NOT NULL AND (NOT old_job.active OR old_job.database <> current_database()) THEN
		EXECUTE 'SELECT cron.unschedule($1)' USING old_job.jobid;
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job_id USING job_name, cron_schedule, command;
	IF old_job.jobid IS NOT NULL THEN
		RAISE NOTICE 'replaced the schedule "%" of the refresh of schema "%" by "%"',
			old_job.schedule, target_schema, cron_schedule;
	END IF;
	RETURN job_id;
END
$fn$;
COMMENT ON FUNCTION omnikpi.schedule_refresh(name, text) IS
	'schedules CALL omnikpi.refresh_kpi_views(target_schema) with pg_cron (cron syntax, GMT), replacing an earlier schedule of the schema; returns the pg_cron job id';

CREATE FUNCTION omnikpi.unschedule_refresh(target_schema name)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	job_id bigint;
BEGIN
	-- The schema need not exist any more: a job outliving a dropped schema
	-- must still be removable.
	IF target_schema IS NULL THEN
		RAISE EXCEPTION 'target_schema must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM omnikpi.check_pg_cron();
	EXECUTE 'SELECT j.jobid FROM cron.job j WHERE j.jobname = $1 AND j.username = $2'
		INTO job_id USING omnikpi.refresh_job_name(target_schema), current_user::text;
	IF job_id IS NULL THEN
		-- Like DROP ... IF EXISTS: the wanted state holds already.
		RAISE NOTICE 'no refresh of schema "%" is scheduled by role "%", skipping', target_schema, current_user;
		RETURN false;
	END IF;
	EXECUTE 'SELECT cron.unschedule($1)' USING job_id;
	RETURN true;
END
$fn$;
COMMENT ON FUNCTION omnikpi.unschedule_refresh(name) IS
	'removes the pg_cron job of schedule_refresh for target_schema; returns false, with a notice, when there was none';
