#!/usr/bin/env bash
# All tests against real services: provisions what is missing, starts the local PostgreSQL cluster
# (the tests make their own throwaway databases in it), runs `dotnet test`, stops what it started.
# Extra arguments go to `dotnet test` (e.g. ./test.sh --filter "TestCategory!=Browser").
# ./test.sh --resilience runs only the fault tests, at full size (10,000 subscribers, 10 kills, 60 s SMTP outage...),
# and prints their figures.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--resilience" ]; then
  shift
  export FAULT_TESTS=1
  set -- --filter "FullyQualifiedName~Faults|FullyQualifiedName~FailoverTests" --logger "console;verbosity=detailed" "$@"
fi

tools/provision.sh test

echo "== docker-compose.yml"
docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: valide"

started_pg=""
if [ -z "${ConnectionStrings__Default:-}" ] && ! db/pg.sh status >/dev/null 2>&1; then started_pg=1; fi
cleanup() { if [ -n "$started_pg" ]; then db/pg.sh stop || true; fi; }
trap cleanup EXIT
db/pg.sh start
export ConnectionStrings__Default="${ConnectionStrings__Default:-$(db/pg.sh url)}"

echo "== dotnet format"
dotnet format Opportunites.sln --verify-no-changes -v quiet

echo "== dotnet test"
dotnet test Opportunites.sln -nologo "$@"
