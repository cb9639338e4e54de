#!/usr/bin/env bash
# The app with demo data, in the foreground, on http://127.0.0.1:5080 (PORT overrides).
set -euo pipefail
cd "$(dirname "$0")"

tools/provision.sh run
db/pg.sh start
export ConnectionStrings__Default="${ConnectionStrings__Default:-$(db/pg.sh url)}"
# Without Smtp__Host, emails are written as .eml files here (beside var/pg), easy to find and open.
export Mail__PickupDirectory="${Mail__PickupDirectory:-$PWD/var/mail}"

dotnet build src/Opportunites.Web -nologo -v quiet -clp:ErrorsOnly
dotnet run --project src/Opportunites.Web --no-build -- demo
echo "Opportunités sur http://127.0.0.1:${PORT:-5080} (Ctrl+C pour arrêter ; db/pg.sh stop arrête PostgreSQL)"
exec dotnet run --project src/Opportunites.Web --no-build
