# HCC Cohort Explorer: a small image that runs as non-root, sends nothing anywhere, writes nothing
# to disk (it works with a read-only root filesystem) and reports its health. It serves the app as
# one Streamlit process per CPU behind nginx (scripts/deploy/serve.py). See the README, section Deploy.
#
# Works on the official python:3.12-slim and on any Debian-like base that has python3 with the
# venv module (CI bootstraps one with debootstrap because it cannot pull from registries).
ARG BASE_IMAGE=python:3.12-slim

# ---- build stage: the pinned requirements, resolved into a virtual environment --------------
FROM ${BASE_IMAGE} AS build
# CA bundle for pip behind a TLS-intercepting proxy (CI mounts the host's bundle there). Empty by
# default, and then unset below so pip keeps its own certificate store.
ARG PIP_CERT=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
# The pinned packages ship wheels for CPython 3.11-3.12 (the base has no compiler, so a package
# that needed one would fail here, loudly). Then the installer and the libraries' own test suites
# go: the running image installs nothing and runs no library tests.
RUN if [ -z "${PIP_CERT}" ]; then unset PIP_CERT; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/python -m pip install --no-cache-dir --prefer-binary -r /tmp/requirements.txt \
    && /opt/venv/bin/python -m pip uninstall --yes pip setuptools wheel \
    && find /opt/venv/lib -type d -name tests -prune -exec rm -rf {} +
# Noto Sans CJK SC for Chinese labels in PNG/SVG chart downloads (issue 17). Debian's package
# holds Sans and Serif; only the two Sans files are copied into the runtime image below.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# ---- runtime stage: the venv, the app and the few data files it ships with ---------------------
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="HCC Cohort Explorer" \
      org.opencontainers.image.description="Self-hosted dashboard for HCC treatment cohorts (survival, Cox, Table 1, response, safety)."

# A fixed numeric UID lets orchestrators enforce runAsNonRoot without looking up names. The base's
# own pip (python:3.12-slim has one) goes too: nothing is ever installed at run time.
# nginx (Debian's smallest build) spreads users over the Streamlit workers; it runs as the app user
# with its files in /tmp (scripts/deploy/serve.py), so the package's own service and logs are never used.
# DL3008 (pin apt versions): nginx's version is the one of the base's Debian release, and pinning it
# would break the build at every Debian security update; rebuild the image to get them.
# hadolint ignore=DL3008
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app \
    && if python3 -m pip --version >/dev/null 2>&1; then \
        python3 -m pip uninstall --yes pip setuptools wheel; \
    fi \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* /var/log/nginx/* /etc/nginx/sites-enabled/*

ENV PATH="/opt/venv/bin:${PATH}" \
    PORT=8501 \
    ADDRESS=0.0.0.0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_HEADLESS=true

COPY --from=build /opt/venv /opt/venv
COPY --from=build /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
     /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc /usr/share/fonts/opentype/noto/
WORKDIR /app
# .dockerignore is a whitelist: only the app, its package, its config and its bundled data.
# Root owns the files, so the app user can read but never change them.
COPY . /app
# Fail the build, not the first user, when a file the app needs was not copied; byte-compile the
# app now because the root filesystem is read-only at run time.
RUN for f in app.py .streamlit/config.toml data/demo_cohort.csv data/data_dictionary.csv \
        data/template.csv data/published_values.json scripts/deploy/serve.py scripts/deploy/nginx.conf.template; do \
        if [ ! -f "/app/$f" ]; then echo "The image is missing /app/$f." >&2; exit 1; fi; \
    done \
    && python3 -m compileall -q /app

USER 10001:10001
EXPOSE 8501
# No curl in the image: ask nginx's readiness endpoint (a worker's /_stcore/health) with Python,
# bypassing any proxy variables. Kubernetes: liveness /healthz, readiness /readyz (scripts/deploy/k8s).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request as u; r = u.build_opener(u.ProxyHandler({})).open('http://localhost:8501/readyz', timeout=4); sys.exit(0 if r.read().strip() == b'ok' else 1)"]
# WORKERS (default: the CPUs of the container's quota), PORT and ADDRESS are read from the
# environment; arguments are passed to every `streamlit run`.
ENTRYPOINT ["python3", "/app/scripts/deploy/serve.py", "--"]
CMD []
