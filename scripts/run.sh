#!/usr/bin/env bash
# Quick start 1: set up and serve the app on http://localhost:8501 with the demo cohort.
# Several Streamlit processes (WORKERS, default one per CPU) behind nginx with sticky sessions
# (scripts/deploy/serve.py); PORT and ADDRESS choose where nginx listens. nginx is installed with apt-get
# when missing and we are root; otherwise one Streamlit process serves PORT directly.
# Arguments are passed to every `streamlit run`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup_venv.sh requirements.txt
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light
    # Debian's package may start a system nginx on port 80; this app runs its own.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
      systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
  else
    echo "Note: nginx is missing (sudo apt-get install nginx-light); serving ONE Streamlit process on port ${PORT:-8501} without it." >&2
    exec .venv/bin/streamlit run app.py --server.port "${PORT:-8501}" --server.address "${ADDRESS:-0.0.0.0}" "$@"
  fi
fi
exec .venv/bin/python scripts/deploy/serve.py -- "$@"
