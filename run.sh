#!/usr/bin/env bash
# The app with demo data, in the foreground, on http://127.0.0.1:5080 (PORT overrides).
# On a provisioned machine it starts in a few seconds (./bench.sh start measures it): nothing is rebuilt when no
# source changed, and the demo data are loaded by the app itself, only into an empty database.
set -euo pipefail
cd "$(dirname "$0")"

tools/provision.sh run
db/pg.sh start
export ConnectionStrings__Default="${ConnectionStrings__Default:-$(db/pg.sh url)}"
# Without Smtp__Host, emails are written as .eml files here (beside var/pg), easy to find and open.
export Mail__PickupDirectory="${Mail__PickupDirectory:-$PWD/var/mail}"
export Demo__LoadIfEmpty=true

# A `dotnet build` with nothing to do still costs seconds (MSBuild evaluation): build only when a file of the app, of
# db/ or of the build settings is newer than the last successful build (a deleted file changes its folder's date).
APP_DIR=src/Opportunites.Web
APP=$APP_DIR/bin/Debug/net10.0/Opportunites.Web.dll
STAMP=var/run.build-stamp
if [ ! -f "$APP" ] || [ ! -f "$STAMP" ] || [ -n "$(find "$APP_DIR" db Directory.Build.props Directory.Packages.props .editorconfig \
    \( -name bin -o -name obj \) -prune -o -newer "$STAMP" -print -quit 2>/dev/null)" ]; then
  echo "[run] compilation de l'application" >&2
  mkdir -p var
  touch "$STAMP.new"
  dotnet build "$APP_DIR" -nologo -v quiet -clp:ErrorsOnly
  mv "$STAMP.new" "$STAMP"
fi

echo "Opportunités sur http://127.0.0.1:${PORT:-5080} (Ctrl+C pour arrêter ; db/pg.sh stop arrête PostgreSQL)"
# Links in emails, feeds and the API use Site:BaseUrl: the address just printed, unless set otherwise.
export Site__BaseUrl="${Site__BaseUrl:-http://127.0.0.1:${PORT:-5080}}"
# The built app directly (as `dotnet run` does, from the project folder: its content root), without `dotnet run`'s
# own MSBuild evaluation.
cd "$APP_DIR"
exec dotnet "bin/Debug/net10.0/Opportunites.Web.dll"
