# One image for every service; the compose file (and infra/k8s) picks the service and role (api | worker) per
# container: `scripts/service.sh <service> api|worker`. Migrations: `pnpm -r --filter './apps/*' db:migrate`.
FROM node:20-bookworm-slim
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN npm install --global --no-fund --no-audit pnpm@10.34.9
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm db:generate && pnpm build
# The only places a service writes (as the non-root user): content's CONTENT_MEDIA_DIR and message-sender's
# ARCHIVE_DIR. A volume mounted there starts with this ownership (Docker copies it into an empty named volume;
# Kubernetes gets it from the pod's fsGroup, 1000 = node).
RUN mkdir -p /app/var/media /app/var/archive && chown -R node:node /app/var
# After the install (production would skip the build's dev dependencies): the subscription service then requires
# UNSUBSCRIBE_SECRET instead of inventing one per process.
ENV NODE_ENV=production
USER node
