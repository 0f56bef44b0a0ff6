# syntax=docker/dockerfile:1
# ml-platform backend image.
#   build:   a virtualenv with the wheel of this repository and its pinned dependencies
#   runtime: slim Python with that virtualenv only (no compilers, no pip cache), non-root
# Build with ./build-images.sh or `docker build -t ml-platform .`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# Dependencies first, from the lock, so source edits do not invalidate this layer.
COPY constraints.txt pyproject.toml ./
RUN /opt/venv/bin/python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && /opt/venv/bin/pip install -c constraints.txt -r /tmp/requirements.txt
COPY README.md ./
# The service only: the Karmada simulator (src/karmada_sim) is a development tool and stays out
# of this image (it has its own, deploy/images/sim.Dockerfile).
COPY src/ml_platform ./src/ml_platform
# The wheel carries the package data (Alembic migrations); --no-deps because the lock is installed.
# pip byte-compiles everything here: the runtime's root filesystem is read-only.
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tmp/wheels . \
 && /opt/venv/bin/pip install --no-deps -c constraints.txt /tmp/wheels/*.whl \
 && /opt/venv/bin/pip uninstall --yes pip setuptools wheel

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="ml-platform" \
      org.opencontainers.image.description="Training-job service for Kubernetes clusters joined by Karmada"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080
# A numeric UID so Kubernetes can verify runAsNonRoot; /etc/kubeconfig and
# /etc/ml-platform/auth are owned by it so Docker named volumes mounted there (compose) are
# writable by the simulator and by the one-shot service that writes the API tokens.
RUN groupadd --system --gid 10001 mlplatform \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin mlplatform \
 && mkdir -p /app /etc/kubeconfig /etc/ml-platform/auth \
 && chown 10001:10001 /app /etc/kubeconfig /etc/ml-platform/auth
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/health', timeout=4)"]
# Exec form: Kubernetes `args` and `docker run IMAGE --flag` are appended to `ml-platform serve`.
ENTRYPOINT ["ml-platform", "serve"]
