# syntax=docker/dockerfile:1
# Two stages: uv builds the virtualenv from the lock; the runtime image has no uv,
# no compiler, and runs as an unprivileged user.

FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /srv
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

FROM python:3.11-slim AS runtime
# Fixed ids: Kubernetes' runAsNonRoot can only verify a numeric user (deploy/).
RUN groupadd --system --gid 10001 pec \
    && useradd --system --uid 10001 --gid pec --no-create-home pec
WORKDIR /srv
COPY --from=build --chown=pec:pec /srv /srv
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/entrypoint
ENV PATH="/srv/.venv/bin:$PATH" PYTHONUNBUFFERED=1 ENVIRONMENT=production
USER 10001:10001
EXPOSE 8000
# No HEALTHCHECK: the same image runs api, worker and migrate; the orchestrator probes
# the api's /healthz and /readyz.
ENTRYPOINT ["entrypoint"]
CMD ["api"]
