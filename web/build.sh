#!/usr/bin/env sh
# Bundle the explorer's WebGL scatter plot (regl-scatterplot and its dependencies, versions pinned in
# package-lock.json) into service/static/vendor/. Reproducible: same lock file, same bytes. CI runs
# this and diffs the result against the committed bundle.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --target=es2020 \
    --legal-comments=eof --log-level=warning --outfile=../service/static/vendor/regl-scatterplot.js
