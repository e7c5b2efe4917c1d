#!/bin/bash
# Runs once, when the PostgreSQL container initialises an empty data volume (docker-entrypoint-initdb.d):
# a separate database `incidents` for the record store, owned by its own login role `incidents`, whose
# password is RECORDS_DB_PASSWORD (use a URL-safe one, e.g. `openssl rand -hex 24`: it is part of
# DATABASE_URL). Temporal's user (POSTGRES_USER) keeps its own databases; only the `incidents` role
# (and the superuser) may connect to `incidents`, and the role is no superuser and owns nothing else.
#
# A volume initialised before this script existed is not touched: run it by hand once
#   docker compose exec -e RECORDS_DB_PASSWORD postgresql bash /docker-entrypoint-initdb.d/10-records-database.sh
# (it is idempotent: an existing role gets the password again, an existing database is kept).
set -euo pipefail

if [ -z "${RECORDS_DB_PASSWORD:-}" ]; then
  echo "10-records-database.sh: RECORDS_DB_PASSWORD is not set" >&2
  exit 1
fi

# The password goes in as a psql variable (:'password' quotes it as a literal), never into the SQL text.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v password="$RECORDS_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE incidents LOGIN PASSWORD %L', :'password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'incidents') \gexec
SELECT format('ALTER ROLE incidents LOGIN PASSWORD %L', :'password') \gexec
SELECT 'CREATE DATABASE incidents OWNER incidents'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'incidents') \gexec
REVOKE ALL ON DATABASE incidents FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE incidents TO incidents;
SQL

# In the new database: the public schema belongs to the role, nobody else may create in it.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname incidents <<'SQL'
ALTER SCHEMA public OWNER TO incidents;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
echo "10-records-database.sh: database incidents and role incidents are ready"
