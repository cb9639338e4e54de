#!/usr/bin/env bash
# Regenerates the territory migration from the official administrative divisions (INSEE COG, as packaged by
# Etalab in @etalab/decoupage-administratif). Offline afterwards: the app only reads the migration.
#   tools/territories/update.sh [VERSION] [MIGRATION_FILE] [ARTICLES_MIGRATION_FILE]
# For a new INSEE year: tools/territories/update.sh 7.0.0 db/migrations/00NN_territories_cog_2027.sql \
#   db/migrations/00NN_territory_name_articles_2027.sql
set -euo pipefail
version="${1:-6.0.0}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
output="${2:-$root/db/migrations/0081_territories_communes_epci.sql}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@etalab/decoupage-administratif@$version" >/dev/null && tar xzf ./*.tgz)
python3 "$root/tools/territories/convert.py" "$work/package/data" "$version" "$output"
articles="${3:-$root/db/migrations/0104_territory_name_articles.sql}"
python3 "$root/tools/territories/articles.py" "$work/package/data" "$version" "$articles"
