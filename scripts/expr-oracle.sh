#!/usr/bin/env bash
# The expression oracle check: installs Genesys' Architect Scripting SDK from npm (into
# target/, outside the sources) and compares its expression parser and type checker with
# `flowctl expr --check` over every catalogue example and every fixture expression.
# Fails on a disagreement not listed in scripts/expr-oracle-known.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${ARCHITECT_SDK_VERSION:-0.0.18}"
DIR=target/expr-oracle-npm
if [ ! -f "$DIR/node_modules/purecloud-flow-scripting-api-sdk-javascript/package.json" ] \
   || ! grep -q "\"version\": \"$VERSION\"" "$DIR/node_modules/purecloud-flow-scripting-api-sdk-javascript/package.json"; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  (cd "$DIR" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "purecloud-flow-scripting-api-sdk-javascript@$VERSION" >/dev/null)
fi
cargo build --quiet --locked
node scripts/expr-oracle.js "$DIR/node_modules" target/debug/flowctl
