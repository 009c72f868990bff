#!/usr/bin/env bash
# Installs what the browser tests drive: Debian's Chromium (apt package `chromium`) and, from
# the npm registry, `playwright-core` (the driver library, which downloads no browser) and
# `axe-core` (the accessibility engine injected into pages under test), at pinned versions in
# a cache directory kept across runs. No browser is ever downloaded: Playwright's own browser
# builds (`npx playwright install`) are never fetched, the tests launch /usr/bin/chromium.
#
# Idempotent and quiet: what is already installed at the pinned version is left alone.
# Prints the variables the tests read (crates/cordon/tests/common/browser.rs):
#
#   eval "$(scripts/test-env-browser.sh)"
set -euo pipefail

playwright_core_version="1.65.1"
axe_core_version="4.14.1"
dir="${CORDON_BROWSER_DIR:-/var/tmp/cordon-it/browser}"

log() { printf 'test-env-browser: %s\n' "$*" >&2; }

# Debian's Chromium. Its binary is /usr/bin/chromium (a wrapper script that reads
# /etc/chromium.d and execs /usr/lib/chromium/chromium).
if ! command -v chromium >/dev/null 2>&1; then
    log "installing Debian's chromium"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-noto-cjk >/dev/null
fi
# Japanese pages need CJK glyphs in screenshots; the tests read text, not pixels, so this is
# only for people looking at a failure's screenshot.
if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'ok installed'; then
    log "installing fonts-noto-cjk"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null
fi

# Node.js runs the driver; the machine provides Node 20 (playwright-core needs >= 18).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "installing nodejs and npm"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

installed_version() {
    node -e 'try { console.log(require(process.argv[1]).version) } catch { console.log("") }' \
        "$dir/node_modules/$1/package.json"
}

if [[ "$(installed_version playwright-core)" != "$playwright_core_version" ]] ||
    [[ "$(installed_version axe-core)" != "$axe_core_version" ]]; then
    log "installing playwright-core@$playwright_core_version axe-core@$axe_core_version into $dir"
    mkdir -p "$dir"
    # A package.json of its own, so npm installs here and not into a parent project.
    printf '{ "name": "cordon-browser-tests", "private": true }\n' >"$dir/package.json"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-audit --no-fund \
        --no-progress --loglevel=error --save-exact \
        "playwright-core@$playwright_core_version" "axe-core@$axe_core_version" >&2
fi

printf 'export CORDON_CHROMIUM=%q\n' "$(command -v chromium)"
printf 'export CORDON_BROWSER_NODE_MODULES=%q\n' "$dir/node_modules"
