#!/usr/bin/env bash
# Refresh the JavaScript vendored from npm. The files are committed build artefacts: nothing
# is fetched at run time or by the tests. Run from the project root, with npm on PATH:
#     tools/vendor-js.sh
# then run the browser tests (tests/test_browser.py) and update the versions in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

YASGUI=4.6.2      # @zazuko/yasgui: query editor and results (MIT)
CYTOSCAPE=3.35.0  # cytoscape: the overview's interactive network (MIT)
AXE=4.14.1        # axe-core: accessibility checks in tests/test_browser.py (MPL-2.0)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@zazuko/yasgui@$YASGUI" "cytoscape@$CYTOSCAPE" \
   "axe-core@$AXE" >/dev/null)
for f in "$work"/*.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done

static=src/crinkkg/web/static/vendor
mkdir -p "$static/yasgui" "$static/cytoscape" tests/vendor/axe-core
# The source-map comment is dropped: the maps are not shipped (3.6 MB), and a browser
# with its developer tools open would otherwise ask the server for them.
sed '/^\/\/# sourceMappingURL=/d' "$work/zazuko-yasgui-$YASGUI/package/build/yasgui.min.js" \
  > "$static/yasgui/yasgui.min.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' \
  "$work/zazuko-yasgui-$YASGUI/package/build/yasgui.min.css" > "$static/yasgui/yasgui.min.css"
cp "$work/cytoscape-$CYTOSCAPE/package/dist/cytoscape.min.js" "$static/cytoscape/"
cp "$work/cytoscape-$CYTOSCAPE/package/LICENSE" "$static/cytoscape/LICENSE"
cp "$work/axe-core-$AXE/package/axe.min.js" "$work/axe-core-$AXE/package/LICENSE" \
   "$work/axe-core-$AXE/package/LICENSE-3RD-PARTY.txt" tests/vendor/axe-core/
# @zazuko/yasgui's npm package ships no licence file; its package.json says MIT and
# tools/yasgui-LICENSE holds the text, copied beside the files.
cp tools/yasgui-LICENSE "$static/yasgui/LICENSE"
cat > "$static/VERSIONS" <<VERSIONS
@zazuko/yasgui $YASGUI MIT (yasgui/LICENSE)
cytoscape $CYTOSCAPE MIT (cytoscape/LICENSE)
VERSIONS
echo "vendored: @zazuko/yasgui $YASGUI, cytoscape $CYTOSCAPE, axe-core $AXE (tests only)"
