#!/bin/sh
# Runs one service process from its bundle (`pnpm build` writes apps/<service>/dist/): every way of starting a
# service goes through here (pnpm start, the apps' api/worker scripts, tests, benchmarks, Docker).
#
#   scripts/service.sh <service> api|worker
#
# SERVICE_NODE_ARGS: node flags, by default a heap sized for a service process (see README.md, "How services run");
# set it empty for Node's own defaults. Other node flags can go in NODE_OPTIONS.
# MALLOC_ARENA_MAX (glibc): 2 unless set. With one malloc arena per thread (V8's compiler and GC threads,
# libuv's pool), freed native memory stays spread over many arenas: ~40 MB more RSS per process, measured.
set -eu
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
bundle="$(dirname "$0")/../apps/$1/dist/main.js"
if [ ! -f "$bundle" ]; then
  echo "service.sh: no $bundle; run pnpm build first" >&2
  exit 1
fi
# An API's young generation is twice a worker's: what its requests allocate dies young (see README.md, "How services
# run"); a worker's did not gain from more.
semi_space=8
if [ "$2" = api ]; then
  semi_space=16
fi
node_args="${SERVICE_NODE_ARGS---max-old-space-size=128 --max-semi-space-size=$semi_space --liftoff-only}"
# SERVICE_CPU_PROF_DIR (diagnosis, e.g. BENCH_CPU_PROF): a V8 CPU profile written there when the process stops.
# Node refuses --cpu-prof in NODE_OPTIONS, so it is passed here.
if [ -n "${SERVICE_CPU_PROF_DIR:-}" ]; then
  node_args="$node_args --cpu-prof --cpu-prof-dir=$SERVICE_CPU_PROF_DIR"
fi
# $node_args unquoted on purpose: a list of flags. exec: the process keeps this pid and gets signals itself.
# shellcheck disable=SC2086
exec node $node_args "$bundle" "$2"
