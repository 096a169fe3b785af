# Shared set-up for scripts/start.sh and scripts/test.sh: everything a fresh machine needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=10.34.9

log() { printf '\033[1m[tidings]\033[0m %s\n' "$*"; }

require_node() {
  command -v node >/dev/null || { log "Node.js 20.19+ is required (https://nodejs.org)"; exit 1; }
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || { log "Node.js 20.19+ is required, found $(node --version)"; exit 1; }
}

# pnpm is not always installed, and corepack's signature check fails on some Node 20 builds.
ensure_pnpm() {
  if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
    log "installing pnpm $PNPM_VERSION"
    npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
  fi
}

ensure_dependencies() {
  log "installing dependencies"
  pnpm install --frozen-lockfile --reporter=silent
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done
  log "nothing is listening on 127.0.0.1:$1 after 60 s"; return 1
}

# Postgres and RabbitMQ on localhost, as the services default to. Started if installed but down; installed
# from Debian's packages if missing and we may (root with apt-get). Elsewhere: docker compose up -d postgres rabbitmq.
ensure_backing_services() {
  if [ -n "${TIDINGS_SKIP_SERVICES:-}" ]; then return 0; fi
  if ! port_open 5432; then
    if ! command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing PostgreSQL"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    wait_for_port 5432
    psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1 \
      || log "warning: cannot log in as postgres on 127.0.0.1 (trust auth expected; set *_DATABASE_URL otherwise)"
  fi
  if ! port_open 5672; then
    if ! command -v rabbitmq-server >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing RabbitMQ"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    fi
    # A broker that is starting (or hung) has its port closed too: a second one with the same node name would
    # fight it, so wait for the running one instead.
    if pgrep -f -- '-s rabbit boot' >/dev/null 2>&1; then
      log "RabbitMQ is running but not listening yet; waiting for it"
    else
      log "starting RabbitMQ"
      rabbitmq-server -detached || true
    fi
    wait_for_port 5672
  fi
}

# Debian's Chromium, for the browser tests (playwright-core drives /usr/bin/chromium; CHROMIUM_PATH overrides).
# Installed when missing and we may (root with apt-get); otherwise those tests fail saying how to install it.
ensure_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Chromium (browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    log "warning: no Chromium at $chromium and cannot install it (needs root and apt-get); browser tests will fail"
  fi
}

# The Docker CLI's compose plugin (v2), for the compose test's `docker compose config`: where the CLI exists without
# it (Debian 12 packages only the old Python compose 1.x, which cannot read the file), the plugin binary is taken from
# Debian 13's docker-compose package (pinned and checksummed) into ~/.docker/cli-plugins. Nothing is started.
COMPOSE_DEB_URL="http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_2.26.1-4_amd64.deb"
COMPOSE_DEB_SHA256="47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea"
ensure_docker_compose() {
  if ! command -v docker >/dev/null || docker compose version >/dev/null 2>&1; then return 0; fi
  if [ "$(uname -m)" != x86_64 ] || ! command -v curl >/dev/null || ! command -v dpkg-deb >/dev/null; then
    log "warning: docker has no compose plugin and it cannot be fetched here; the compose test checks the file without it"
    return 0
  fi
  log "installing the docker compose plugin (compose test)"
  local tmp
  tmp="$(mktemp -d)"
  if curl -fsSL --max-time 120 -o "$tmp/compose.deb" "$COMPOSE_DEB_URL" &&
    echo "$COMPOSE_DEB_SHA256  $tmp/compose.deb" | sha256sum -c --quiet - &&
    dpkg-deb -x "$tmp/compose.deb" "$tmp/root"; then
    mkdir -p "$HOME/.docker/cli-plugins"
    install -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$HOME/.docker/cli-plugins/docker-compose"
  else
    log "warning: could not fetch the docker compose plugin; the compose test checks the file without it"
  fi
  rm -rf "$tmp"
}

# A broker that accepts connections but never answers them (RabbitMQ out of file handles) fails here in seconds,
# saying what hung and how to recover it, instead of stalling every step after.
check_broker() {
  if [ -n "${TIDINGS_SKIP_SERVICES:-}" ]; then return 0; fi
  node --import tsx scripts/probe-broker.ts
}

prepare() {
  require_node
  ensure_pnpm
  ensure_dependencies
  ensure_backing_services
  check_broker
}
