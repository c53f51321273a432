#!/usr/bin/env bash
# Quick start 2: set up and run the whole test suite (unit, R-reference, app and browser tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup_venv.sh requirements-test.txt
# Browser tests drive Debian's chromium (Playwright cannot download browsers here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "Note: /usr/bin/chromium is missing (sudo apt-get install chromium); browser tests will fail under CI=true and be skipped otherwise." >&2
  fi
fi
# The multi-process deployment tests (tests/test_deploy*.py) start nginx, as scripts/run.sh does.
if [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light
  else
    echo "Note: nginx is missing (sudo apt-get install nginx-light); deployment tests will fail under CI=true and be skipped otherwise." >&2
  fi
fi
# The sign-in test starts a real OpenID Connect provider (tests/oidc: npm's oidc-provider,
# pinned by package-lock.json) on node from Debian's nodejs package.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
  else
    echo "Note: node/npm are missing (sudo apt-get install nodejs npm); the sign-in test will fail under CI=true and be skipped otherwise." >&2
  fi
fi
if command -v npm >/dev/null; then
  lock="tests/oidc/node_modules/.package-lock.json"
  if [ ! -f "$lock" ] || [ tests/oidc/package-lock.json -nt "$lock" ]; then
    npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
  fi
fi
# Chinese labels in chart downloads and the browser need a CJK font (issue 17).
bash scripts/setup_fonts.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
