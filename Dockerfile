# One image per service, all from this file, built from the repository root:
#   docker build --build-arg SERVICE=pilots --build-arg PORT=8003 -t ucap-pilots .
# (docker-compose.yml passes both for each service.)
# The base: CPython 3.11.16 on Debian bookworm (slim), pinned by tag and by the digest of
# its multi-platform index (as docker-library/repo-info records it for this tag).
ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm@sha256:c425d915a89a6dcd3183b1797ad9bd8878caff5a417f6371c8df93c8ea8b727f

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
# Third-party packages: exactly the service's production lock (`make lock`), every file
# checked against its hash, wheels only (nothing built with an unpinned backend).
COPY services/${SERVICE}/requirements.lock /build/requirements.lock
RUN python -m venv /opt/ucap \
 && /opt/ucap/bin/pip install --require-hashes --no-deps --only-binary=:all: -r /build/requirements.lock
# Our own packages, built by the locked hatchling, installed without dependencies: theirs
# are the lock's above.
COPY requirements-build.lock /build/requirements-build.lock
RUN pip install --require-hashes --no-deps --only-binary=:all: -r /build/requirements-build.lock
COPY shared /build/shared
COPY services/${SERVICE} /build/services/${SERVICE}
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /build/wheels /build/shared /build/services/${SERVICE} \
 && /opt/ucap/bin/pip install --no-deps /build/wheels/*.whl \
 && ln -s /opt/ucap/bin/ucap-${SERVICE} /opt/ucap/bin/ucap-service

FROM ${PYTHON_IMAGE}
ARG PORT
# Each service reads its own host variable; in a container every one listens on all
# interfaces, and only the one this image holds is started.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/ucap/bin:$PATH \
    UCAP_GATEWAY_HOST=0.0.0.0 UCAP_CITIES_HOST=0.0.0.0 UCAP_MOUS_HOST=0.0.0.0 \
    UCAP_PILOTS_HOST=0.0.0.0 UCAP_REPORTING_HOST=0.0.0.0 UCAP_IMAGE_PORT=${PORT}
RUN groupadd --system --gid 10001 ucap \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ucap
COPY --from=build /opt/ucap /opt/ucap
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "http://127.0.0.1:${UCAP_IMAGE_PORT}/health/ready" || exit 1
CMD ["ucap-service"]
