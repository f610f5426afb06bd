#!/bin/sh
# Fetch the browser libraries the web pages use from the npm registry and copy their built
# files, with their licences, into src/graph/http/pages/static/vendor/. The result is committed, so
# running the server never needs npm or a CDN. Run again to upgrade (change the versions below).
set -eu

YASGUI_VERSION="4.6.2"
CYTOSCAPE_VERSION="3.34.4"

here=$(cd "$(dirname "$0")/.." && pwd)
vendor="$here/src/graph/http/pages/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts \
    "@zazuko/yasgui@$YASGUI_VERSION" "cytoscape@$CYTOSCAPE_VERSION" >/dev/null

rm -rf "$vendor"
mkdir -p "$vendor/yasgui" "$vendor/cytoscape"
cp node_modules/@zazuko/yasgui/build/yasgui.min.js node_modules/@zazuko/yasgui/build/yasgui.min.css \
    "$vendor/yasgui/"
# The @zazuko/yasgui package declares "license": "MIT" in package.json but ships no LICENSE
# file: keep its package.json (licence, authors, repository) and the MIT text naming them.
cp node_modules/@zazuko/yasgui/package.json "$vendor/yasgui/package.json"
cat > "$vendor/yasgui/LICENSE" <<'MIT'
MIT License (declared by @zazuko/yasgui in package.json; upstream https://github.com/rdfjs/Yasgui)

Copyright (c) Triply <info@triply.cc> and Zazuko GmbH

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
MIT
cp node_modules/cytoscape/dist/cytoscape.min.js node_modules/cytoscape/LICENSE "$vendor/cytoscape/"
printf 'yasgui %s (npm @zazuko/yasgui)\ncytoscape %s (npm cytoscape)\n' \
    "$YASGUI_VERSION" "$CYTOSCAPE_VERSION" > "$vendor/VERSIONS"
echo "vendored into $vendor"
