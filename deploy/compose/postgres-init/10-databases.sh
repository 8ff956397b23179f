#!/bin/sh
# Runs once, when the PostgreSQL volume is empty (the image's /docker-entrypoint-initdb.d).
# One database per service and one for the gateway (ARCHITECTURE.md: each service owns its data),
# each owned by a login role of its own, so no service can read another's tables.
set -eu
for name in registry bargaining disputes notifications gateway; do
  password_var="POSTGRES_PASSWORD_$(echo "$name" | tr '[:lower:]' '[:upper:]')"
  password=$(printenv "$password_var")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v role="ntc_$name" -v password="$password" -v database="ntc_$name" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
\c :"database"
ALTER SCHEMA public OWNER TO :"role";
SQL
done
# The registry's name search uses trigrams (its migration 0006 takes pg_trgm when it is there).
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname ntc_registry -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm'
