#!/usr/bin/env bash
# Rebuilds the vendored GOV.UK Frontend in this folder from the npm registry (a maintainer's
# step when upgrading; a clone, make install and the tests need nothing of it).
#   api/static/govuk/build.sh [VERSION]     e.g. 5.14.0
# The JS is copied as published; the CSS is compiled from the package's Sass with
# mashflow-govuk.scss (Arial instead of GDS Transport, assets under /static/govuk/assets/).
set -euo pipefail
VERSION="${1:-5.14.0}"
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "govuk-frontend@$VERSION" >/dev/null
tar xzf "govuk-frontend-$VERSION.tgz"
npm install --silent --no-save --no-audit --no-fund sass@1 >/dev/null
cp "$HERE/mashflow-govuk.scss" .
node_modules/.bin/sass --load-path=package/dist --style=compressed --no-source-map \
  --quiet-deps --silence-deprecation=import mashflow-govuk.scss "$HERE/govuk-frontend.min.css"
cp package/dist/govuk/govuk-frontend.min.js "$HERE/"
sed -i "s/govuk-frontend [0-9.]*,/govuk-frontend $VERSION,/" "$HERE/LICENSE"
echo "GOV.UK Frontend $VERSION vendored in $HERE"
