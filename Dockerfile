# One image, two commands (one process each, so signals reach it directly):
#   worker: node --import tsx worker/main.ts   (the default CMD)
#   API:    node --import tsx api/server.ts
# The TypeScript runs through tsx (a regular dependency), so there is no build step.
# test/deploy/image.test.ts assembles this image's file set from the COPY lines below and starts both
# entry points from it: a directory the code imports must be copied here.

# ---- dependencies: production packages only -------------------------------------------------------
FROM node:20.20.2-bookworm-slim AS deps

WORKDIR /app

# Install scripts run only for the packages package.json's "allowScripts" permits (ssh2's optional
# native addon is skipped: no compiler here).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild @swc/core esbuild protobufjs \
  && npm cache clean --force

# ---- runtime --------------------------------------------------------------------------------------
FROM node:20.20.2-bookworm-slim

WORKDIR /app

ENV NODE_ENV=production \
    INCIDENT_CONFIG=/etc/incident-orchestrator/config.yaml \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000

COPY --from=deps /app/node_modules ./node_modules

# Only what the worker and the API run. Listed explicitly so a local node_modules/, data/ or an
# uncommitted .env with secrets never ends up in the image. The configuration is not baked in: mount
# it at /etc/incident-orchestrator/config.yaml (docker-compose.yml does).
COPY package.json tsconfig.json ./
COPY config ./config
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY client ./client
COPY store ./store
COPY worker ./worker
COPY api ./api
COPY deploy/healthcheck.ts ./deploy/healthcheck.ts

# The node user (uid 1000) owns only the data folder; the code is root's and read-only for it.
RUN mkdir -p /data /etc/incident-orchestrator && chown node:node /data && chmod 0700 /data
VOLUME ["/data"]
USER node

EXPOSE 3000
CMD ["node", "--import", "tsx", "worker/main.ts"]
