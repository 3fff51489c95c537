#!/usr/bin/env bash
#
# trusted.sh: omnikpi is a trusted extension (omnikpi.control), so the owner of
# a database can install it without being a superuser, as with pgcrypto.  The
# install and update scripts then run as the bootstrap superuser, which is
# only safe if nothing they execute can resolve to an object the installing
# user planted.  This suite plants such objects in public (the schema the
# extension goes into) as that user: functions and operators that would make
# their caller's victim a superuser and log the call.  It then installs and
# updates the extension as that user and checks that no trap ran, that the
# user is still not a superuser, that they can use and drop the extension,
# and that a role without CREATE on the database cannot install it.
# Run by test/run.sh with the throw-away cluster's PG* variables exported.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

db=omnikpi_trusted
owner=omnikpi_db_owner
outsider=omnikpi_outsider
cleanup()
{
	omnikpi_psql -d postgres -q -c "DROP DATABASE IF EXISTS $db" \
		-c "DROP ROLE IF EXISTS $owner" -c "DROP ROLE IF EXISTS $outsider" >/dev/null 2>&1 || true
}
cleanup
trap cleanup EXIT
as_owner() { PGUSER=$owner omnikpi_psql -d "$db" "$@"; }

omnikpi_psql -d postgres -q -c "CREATE ROLE $owner LOGIN" -c "CREATE ROLE $outsider LOGIN" \
	-c "CREATE DATABASE $db OWNER $owner"
# PostgreSQL 15 no longer lets everyone create in public; the owner of the
# database owns public's contents here, as on a hosted database.
omnikpi_psql -d "$db" -q -c "ALTER SCHEMA public OWNER TO $owner"

as_owner -q <<SQL
CREATE TABLE public.trap_calls (what text, by_user name);
-- Each trap logs who ran it and, run by a superuser, makes the owner one.
CREATE FUNCTION public.trap(what text) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
	INSERT INTO public.trap_calls VALUES (what, current_user);
	IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE $owner SUPERUSER';
	END IF;
END \$\$;
-- Better matches than the built-ins for the argument types a script would
-- pass, were public searched before pg_catalog, or were a name unqualified.
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE sql
	AS \$\$ SELECT public.trap('format'); SELECT \$1 \$\$;
CREATE FUNCTION public.format(text, name, text) RETURNS text LANGUAGE sql
	AS \$\$ SELECT public.trap('format'); SELECT \$1 \$\$;
CREATE FUNCTION public.quote_ident(name) RETURNS text LANGUAGE sql
	AS \$\$ SELECT public.trap('quote_ident'); SELECT \$1::text \$\$;
CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql
	AS \$\$ SELECT public.trap('lower'); SELECT \$1::text \$\$;
CREATE FUNCTION public.array_to_string(text[], varchar) RETURNS text LANGUAGE sql
	AS \$\$ SELECT public.trap('array_to_string'); SELECT ''::text \$\$;
CREATE FUNCTION public.pg_extension_config_dump(text, text) RETURNS void LANGUAGE sql
	AS \$\$ SELECT public.trap('pg_extension_config_dump') \$\$;
CREATE FUNCTION public.trap_ne(name, text) RETURNS boolean LANGUAGE sql
	AS \$\$ SELECT public.trap('<>'); SELECT true \$\$;
CREATE OPERATOR public.<> (LEFTARG = name, RIGHTARG = text, FUNCTION = public.trap_ne);
CREATE FUNCTION public.trap_eq(text, varchar) RETURNS boolean LANGUAGE sql
	AS \$\$ SELECT public.trap('='); SELECT true \$\$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = varchar, FUNCTION = public.trap_eq);
CREATE FUNCTION public.trap_concat(text, varchar) RETURNS text LANGUAGE sql
	AS \$\$ SELECT public.trap('||'); SELECT \$1 \$\$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = varchar, FUNCTION = public.trap_concat);
SQL

# The traps are live: with public first, a plain call is caught (as the
# owner, so nothing is escalated).
as_owner -q -At -c "SET search_path = public, pg_catalog" -c "SELECT lower('A'::varchar)" >/dev/null
caught=$(as_owner -At -c "SELECT count(*) FROM public.trap_calls")
if [ "$caught" -ne 1 ]; then
	echo "FAILED: the demonstration call was not caught ($caught trap calls); the traps prove nothing" >&2
	exit 1
fi
as_owner -q -c "TRUNCATE public.trap_calls"

status=0
fail() { echo "FAILED: $*" >&2; status=1; }

# Install, use, drop, then install the oldest release and update.
oldest=$(awk 'NR == 1 { sub(/^sql\/omnikpi--/, "", $2); sub(/\.sql$/, "", $2); print $2 }' sql/released.sha256)
as_owner -q -c "CREATE EXTENSION omnikpi" || fail "the database owner could not install omnikpi"
rating=$(as_owner -At -c "SELECT omni_experience_rating(c, r) FROM (VALUES ('web', 5.0::float8), ('store', 3.0)) v(c, r)")
[ "$rating" = 75 ] || fail "the owner's omni_experience_rating gave '$rating', not 75"
as_owner -q >/dev/null <<'SQL' || fail "the owner could not create and drop KPI views"
SET client_min_messages = warning;
CREATE TABLE public.interactions (customer_id int, journey_id int, channel text, occurred_at timestamptz,
	phase text, satisfaction float8, effort float8, nps int, context_carried bool, issue_id int, resolved bool);
INSERT INTO public.interactions VALUES (1, 1, 'web', '2026-01-05', 'awareness', 5, 2, 10, false, NULL, false);
CREATE SCHEMA kpi;
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('kpi', interactions => 'public.interactions');
SELECT count(*) FROM omnikpi.drop_kpi_views('kpi');
SQL
as_owner -q -c "DROP EXTENSION omnikpi" || fail "the database owner could not drop omnikpi"
as_owner -q -c "CREATE EXTENSION omnikpi VERSION '$oldest'" -c "ALTER EXTENSION omnikpi UPDATE" ||
	fail "the database owner could not install $oldest and update it"

calls=$(as_owner -At -c "SELECT coalesce(string_agg(what || ' by ' || by_user, ', '), '') FROM public.trap_calls")
[ -z "$calls" ] || fail "the install or update scripts called planted objects: $calls"
super=$(omnikpi_psql -d postgres -At -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$owner'")
[ "$super" = f ] || fail "the database owner became a superuser"

# Without CREATE on the database, no install (42501, insufficient privilege).
err=$(PGUSER=$outsider omnikpi_psql -d "$db" -q -v VERBOSITY=verbose -c "DROP EXTENSION omnikpi" 2>&1 || true)
case $err in
	*42501*) ;;
	*) fail "a role that neither owns omnikpi nor the database could drop it: $err" ;;
esac
as_owner -q -c "DROP EXTENSION omnikpi"
err=$(PGUSER=$outsider omnikpi_psql -d "$db" -q -v VERBOSITY=verbose -c "CREATE EXTENSION omnikpi" 2>&1 || true)
case $err in
	*42501*) ;;
	*) fail "a role without CREATE on the database could install omnikpi: $err" ;;
esac

[ $status -eq 0 ] && echo "the database owner installed, used, updated and dropped omnikpi; no planted object ran"
exit $status
