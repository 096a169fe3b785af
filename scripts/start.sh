#!/usr/bin/env bash
# Starts the whole platform on this machine: installs what is missing, migrates every database, and runs
# every service's API and worker from its bundle (logs prefixed per process; Ctrl-C stops them all).
source "$(dirname "$0")/lib.sh"
prepare
pnpm db:generate
pnpm db:migrate
pnpm build
# Run the process supervisor directly (not through pnpm), so Ctrl-C is its own clean stop.
exec node --import tsx scripts/start.ts
