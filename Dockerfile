# One image for every Taskforce service; the command picks the service and its role:
#   docker run taskforce services.gateway
#   docker run taskforce services.catalog serve|worker|migrate|republish
# Build with `make images`. Runs as UID/GID 10001 and writes nothing under /app at run time
# unless the embedded mode's defaults are kept (see deploy/k8s/README.md, "Images").
#
# The base is pinned by version and by digest. The digest was taken from public Dockerfiles
# that pin the same tag, not read from the registry here (no engine or registry access):
# confirm it with `docker buildx imagetools inspect python:3.11.15-slim-bookworm` before the
# first release, and bump tag and digest together.
ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba

# ---- build: the virtual environment from uv.lock, then the source ------------------------
FROM ${PYTHON_IMAGE} AS build

# The same uv as the Makefile's UV_VERSION, so the lock file is read by the version that wrote it.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# Every locked dependency has a manylinux wheel for CPython 3.11, so no compiler is needed.
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy
WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --compile-bytecode --no-install-project --python /usr/local/bin/python3.11

COPY services ./services
COPY taskforce ./taskforce
# The project is installed editable (a .pth naming /app): the code runs from /app, compiled here
# because PYTHONDONTWRITEBYTECODE and the read-only filesystem keep it from compiling at run time.
RUN uv sync --frozen --no-dev --compile-bytecode --python /usr/local/bin/python3.11 \
    && python -m compileall -q services taskforce

# ---- runtime: the interpreter, the venv and the source; no uv, pip cache or build tools ---
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 10001 taskforce \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin taskforce

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    TASKFORCE_HOST=0.0.0.0
WORKDIR /app

# Source and venv belong to root and are read-only for the service user. var/ (the embedded
# mode's SQLite files and local signing key) is the one directory the user may write; in
# Kubernetes the root filesystem is read-only, so mount an emptyDir there if it is needed.
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/services /app/services
COPY --from=build /app/taskforce /app/taskforce
COPY --from=build /app/pyproject.toml /app/pyproject.toml
RUN mkdir /app/var && chown 10001:10001 /app/var

USER 10001:10001
# gateway 8080, catalog 8081, profiles 8082, matching 8083 (TASKFORCE_PORT overrides).
EXPOSE 8080 8081 8082 8083

ENTRYPOINT ["python", "-m"]
CMD ["services.gateway"]
