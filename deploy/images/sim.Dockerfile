# syntax=docker/dockerfile:1
# The Karmada simulator image, for docker-compose and local demos only (never production):
# this repository installed whole, simulator included, running `ml-platform sim`.
# Build from the repository root: docker build -f deploy/images/sim.Dockerfile .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY constraints.txt pyproject.toml ./
# The service's dependencies, plus kubernetes-validate (a dev extra): it ships the official
# Kubernetes schemas the simulator decodes requests with.
RUN /opt/venv/bin/python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && /opt/venv/bin/pip install -c constraints.txt -r /tmp/requirements.txt \
 && /opt/venv/bin/pip install -c constraints.txt kubernetes-validate
COPY README.md ./
COPY src ./src
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tmp/wheels . \
 && /opt/venv/bin/pip install --no-deps -c constraints.txt /tmp/wheels/*.whl \
 && /opt/venv/bin/pip uninstall --yes pip setuptools wheel

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="ml-platform-sim" \
      org.opencontainers.image.description="Karmada simulator for local ml-platform setups"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# /etc/kubeconfig is owned by the runtime user so a named volume mounted there is writable.
RUN groupadd --system --gid 10001 mlplatform \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin mlplatform \
 && mkdir -p /app /etc/kubeconfig \
 && chown 10001:10001 /app /etc/kubeconfig
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 6443
ENTRYPOINT ["ml-platform", "sim"]
