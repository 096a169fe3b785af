#!/usr/bin/env bash
# Runs every check: lint, typecheck and all tests (unit, integration against the local Postgres and
# RabbitMQ, end-to-end with real processes). Installs what is missing first.
source "$(dirname "$0")/lib.sh"
prepare
ensure_chromium
ensure_docker_compose
exec pnpm test
