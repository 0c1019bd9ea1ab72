#!/usr/bin/env bash
# Install what the browser tests and benchmarks need, only when it is missing.
#
# Debian packages: graphviz (the app draws flow diagrams with its `dot`; `make install` needs it
# too), chromium (driven by Playwright through executable_path, because
# `playwright install` downloads its own browser and cannot here), a CJK font, and wrk
# (raw GET throughput). npm packages from package-lock.json: axe-core, htmx.org, json-logic-js.
# Safe to run again and again; silent when everything is present.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)  # rate-limit storage tests
# Without a CJK font Chromium draws Chinese as boxes: screenshots are unreadable and
# measured text boxes are wrong. WenQuanYi Micro Hei is a 1.6 MB download.
dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q 'ok installed' \
    || missing+=(fonts-wqy-microhei)
# WeasyPrint (the pdf_seal plugin's HTML to PDF) draws text with Pango; the same CJK font sets
# the decisions' Chinese and the OFD seal's stamp picture.
dpkg-query -W -f='${Status}' libpango-1.0-0 2>/dev/null | grep -q 'ok installed' \
    || missing+=(libpango-1.0-0 libpangoft2-1.0-0)

if ((${#missing[@]})); then
    echo "ensure-test-deps: installing Debian packages: ${missing[*]}"
    sudo=()
    if [[ $EUID -ne 0 ]]; then
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ -f "$repo_root/package.json" && ! -d "$repo_root/node_modules/axe-core" ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "ensure-test-deps: npm is missing; install the Debian package 'npm'" >&2
        exit 1
    fi
    echo "ensure-test-deps: installing npm packages"
    if [[ -f "$repo_root/package-lock.json" ]]; then
        (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error)
    else
        # npm ci refuses to run without a lock file; install creates one.
        (cd "$repo_root" && npm install --no-audit --no-fund --loglevel=error)
    fi
fi
