#!/usr/bin/env bash
# What the browser test of the Mesa view needs beyond the Python packages (tests/test_viz_web.py
# drives `python -m viz.web` in a headless Chromium through Selenium):
#   1. Chromium and its WebDriver, from Debian's packages.
#   2. Solara's front-end files. Solara serves them from a CDN through its own proxy cache, which
#      a machine without the internet cannot fill; they are npm packages, so `npm pack` fetches
#      the versions the installed solara asks for into that cache (<venv>/share/solara/cdn).
# Usage: bash .ci/install_browser.sh [PYTHON]   (default .venv/bin/python; quick when done already)
set -euo pipefail
PYTHON="${1:-.venv/bin/python}"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi
chromium --version
chromedriver --version

if ! command -v npm >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends npm
fi
# name@version of every package solara loads from the CDN (its page template, settings and vue
# components), less those for markdown maths, diagrams and altair charts, which the page does not use
"$PYTHON" - <<'PY' > /tmp/solara-cdn-packages.txt
import pathlib, re, solara
root = pathlib.Path(solara.__file__).parent
pattern = re.compile(r"(?:getCdn\(\)\}|\{\{cdn\}\}|_path: str = \")/((?:@[\w.-]+/)?[\w.-]+@\d[\w.-]*)/")
found = set()
for path in root.rglob("*"):
    if path.suffix in (".vue", ".py", ".j2", ".js") and path.is_file():
        found |= set(pattern.findall(path.read_text(errors="ignore")))
unused = ("katex@", "mermaid@", "vega@", "vega-lite@", "vega-embed@")
print("\n".join(sorted(p for p in found if not p.startswith(unused))))
PY
CACHE="$("$PYTHON" -c 'import sys; print(sys.prefix)')/share/solara/cdn"
mkdir -p "$CACHE"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
while read -r pkg; do
    [ -n "$pkg" ] || continue
    if [ -d "$CACHE/$pkg" ]; then echo "solara front-end: $pkg already in $CACHE"; continue; fi
    (cd "$TMP" && npm pack --silent "$pkg" > name.txt)
    mkdir -p "$CACHE/$pkg"
    tar -xzf "$TMP/$(cat "$TMP/name.txt")" -C "$CACHE/$pkg" --strip-components=1
    echo "solara front-end: $pkg -> $CACHE/$pkg"
done < /tmp/solara-cdn-packages.txt
