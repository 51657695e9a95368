-- callshrink: the app's read-only role, on a PostgreSQL server of your own.
--
-- The pipeline, dbt and the CLI connect as the warehouse's owner (CALLSHRINK_DATABASE_URL);
-- the app connects as this role (CALLSHRINK_APP_DATABASE_URL), which may read the marts and
-- nothing else: no raw, staging, intermediate, reference or snapshot table, no server file,
-- no write. (The private server needs none of this: `callshrink db start` does it.)
--
-- Run it once as a role that may create roles (a superuser, or one with CREATEROLE),
-- connected to the warehouse database; run it again to change the password:
--
--   psql "postgresql://admin@db.example.com/analytics" -f scripts/app_role.sql
--
-- psql asks for the new password (\password: only its SCRAM hash reaches the server). For a
-- script, pass it instead; it then reaches the server as text, in the server's log too if
-- log_statement is ddl or all:
--
--   -v app_password="$(openssl rand -base64 24)"
--   -v app_role=NAME      the role (default callshrink_app; set CALLSHRINK_APP_ROLE to the same)
--   -v marts_schema=NAME  the marts schema (default marts; <CALLSHRINK_DBT_SCHEMA>_marts when
--                         CALLSHRINK_DBT_SCHEMA is set)
--   -v owner=NAME         the warehouse owner's role, the one in CALLSHRINK_DATABASE_URL
--                         (default: the role running this script)
--
-- then point the app at it:
--
--   export CALLSHRINK_APP_DATABASE_URL=postgresql://callshrink_app:PASSWORD@db.example.com/analytics
--
-- Nothing more is needed later: every `callshrink run` (dbt) grants the role `select` on each
-- mart it builds (dbt_project.yml, +grants), and `callshrink` gives it usage on the marts
-- schema. `callshrink db url --role app` prints the URL the app uses, password hidden.

\set ON_ERROR_STOP on
\if :{?app_role}
\else
  \set app_role callshrink_app
\endif
\if :{?marts_schema}
\else
  \set marts_schema marts
\endif

-- The role: it logs in, and may do nothing else of its own (no superuser, no new databases
-- or roles, no replication, row-level security applies).
select format(
    'create role %I nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
    :'app_role'
)
where not exists (select from pg_roles where rolname = :'app_role')
\gexec
\if :{?app_password}
  select format(
      'alter role %I login nosuperuser nocreatedb nocreaterole noreplication nobypassrls '
      'password %L',
      :'app_role', :'app_password'
  )
  \gexec
\else
  select format(
      'alter role %I login nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
      :'app_role'
  )
  \gexec
  \echo 'The password of' :app_role
  \password :app_role
\endif

-- It may connect to the warehouse database (PUBLIC usually may too; this survives a revoke),
-- use the marts schema and read the marts built so far.
-- Grants on the owner's objects are made as the owner (a superuser running this script would
-- otherwise be named as grantor and dbt, as the owner, could not see or renew them).
\if :{?owner}
\else
  select current_user as owner \gset
\endif
select format('set role %I', :'owner')
\gexec
select format('grant connect on database %I to %I', current_database(), :'app_role')
\gexec
select format('create schema if not exists %I', :'marts_schema')
\gexec
select format('grant usage on schema %I to %I', :'marts_schema', :'app_role')
\gexec
select format('grant select on all tables in schema %I to %I', :'marts_schema', :'app_role')
\gexec
reset role;

\echo 'scripts/app_role.sql: done. Set CALLSHRINK_APP_DATABASE_URL to the role''s URL.'
