// Loads Genesys' Architect Scripting SDK bundle (npm package
// purecloud-flow-scripting-api-sdk-javascript, MIT licence) and reaches its internal webpack
// modules: the expression catalogue, the English string table and the expression parser.
// Used by scripts/expr-catalogue.js (the generator of src/expr/catalogue.json) and by
// scripts/expr-oracle.js (the CI check against Architect's own parser). Offline: the bundle
// needs no org session for these modules.
'use strict';
const fs = require('fs');
const Module = require('module');
const path = require('path');

// Webpack module ids inside build-scripting/release/scripting.bundle.js of version 0.0.18.
// They are looked up by content below, so a rebuilt bundle fails loudly instead of silently.
function load(nodeModules) {
  const main = require.resolve('purecloud-flow-scripting-api-sdk-javascript', { paths: [nodeModules] });
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(main), '..', '..', 'package.json'), 'utf8'));
  let src = fs.readFileSync(main, 'utf8');
  const hook = 't.p="/build-scripting/release/",';
  if (!src.includes(hook)) throw new Error('unexpected bundle layout: webpack bootstrap not found');
  src = src.replace(hook, hook + 'globalThis.__architectRequire=t,');
  const m = new Module(main, module);
  m.filename = main;
  m.paths = Module._nodeModulePaths(path.dirname(main));
  const log = console.log;
  console.log = () => {}; // the bundle announces itself on stdout
  try { m._compile(src, main); } finally { console.log = log; }
  const req = globalThis.__architectRequire;
  const find = (needle) => {
    for (const id of Object.keys(req.m)) if (req.m[id].toString().includes(needle)) return req(id);
    throw new Error('module not found in bundle: ' + needle);
  };
  const catalogue = find('identifier:"substring",description:"AR_FN_DSC_SUBSTRING"');
  const strings = find('AR_FN_DSC_SUBSTRING:"Gets').expression;
  const Parsed = find('function D(e){D.baseConstructor.call(this),Object.defineProperties(this,{_maxCallStack');
  const types = find('anyComplexCollection');
  return { pkg, catalogue, strings, Parsed, types };
}

module.exports = { load };
