#!/bin/sh
# entrypoint api      — serve the API (stateless; run as many copies as you like)
# entrypoint worker   — deliver the outbox (emails, mail platform), retry stranded payment
#                       events, expire unpaid orders; safe to run several copies
# entrypoint migrate  — apply the migrations; run it once, before a new version starts
#                       (a Kubernetes Job or an init step), never from every api copy
set -eu
case "${1:-api}" in
  migrate)
    exec alembic upgrade head
    ;;
  worker)
    exec python -m app.worker
    ;;
  api)
    # Keep-alive longer than the idle timeout of whatever proxies to it (an ingress keeps
    # its upstream connections 60 s): closed first by uvicorn (5 s by default), a reused
    # connection fails under a request and the proxy answers 502. The loop, parser and log
    # flags are app/serving.py's (why this loop: there).
    exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port "${PORT:-8000}" \
      --loop app.eager_accept:new_event_loop --http httptools --no-access-log \
      --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      --timeout-keep-alive "${KEEP_ALIVE_SECONDS:-75}"
    ;;
  *)
    exec "$@"
    ;;
esac
