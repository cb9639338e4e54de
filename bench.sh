#!/usr/bin/env bash
# Benchmark at realistic scale (issue 8): installs wrk and PostgreSQL when missing, starts the local cluster, builds in
# Release, then runs tests/Opportunites.Bench (its own database, dropped and recreated unless --reuse).
# Arguments go to the benchmark, e.g. ./bench.sh --open 20000 --archived 100000 --duration 5
# Prints one table and writes docs/benchmarks.md. Not part of ./test.sh (minutes, not seconds).
set -euo pipefail
cd "$(dirname "$0")"

tools/provision.sh bench
db/pg.sh start
export ConnectionStrings__Default="${ConnectionStrings__Default:-$(db/pg.sh url)}"

# The benchmark project references the app: one Release build of both.
dotnet build tests/Opportunites.Bench -c Release -nologo -v quiet -clp:ErrorsOnly
exec dotnet tests/Opportunites.Bench/bin/Release/net10.0/Opportunites.Bench.dll "$@"
