#!/usr/bin/env bash
# Regenerates src/expr/catalogue.json from Genesys' Architect Scripting SDK on npm.
# Needs Node 20 and the npm registry; the build and the tests never do.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${ARCHITECT_SDK_VERSION:-0.0.18}"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
(cd "$DIR" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "purecloud-flow-scripting-api-sdk-javascript@$VERSION" >/dev/null)
node scripts/expr-catalogue.js "$DIR/node_modules" >src/expr/catalogue.json.tmp
mv src/expr/catalogue.json.tmp src/expr/catalogue.json
echo "wrote src/expr/catalogue.json from purecloud-flow-scripting-api-sdk-javascript@$VERSION"
