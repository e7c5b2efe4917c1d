# One image, two commands (one process each, so signals reach it directly):
#   worker: node dist/worker/main.js   (the default CMD)
#   API:    node dist/api/server.js
# The TypeScript is compiled once in the build stage (`node scripts/build.mjs`: tsc into dist/ and the
# workflows bundled into dist/workflow-bundle.js), so nothing is transpiled or bundled at start.
# test/deploy/image.test.ts assembles this image's file set from the COPY lines below and starts both
# entry points from it: a directory the code imports must be compiled into dist/ or copied here.

# ---- build: every dependency (the compiler), then dist/ ------------------------------------------
FROM node:20.20.2-bookworm-slim AS build

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild @swc/core esbuild protobufjs
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY client ./client
COPY store ./store
COPY worker ./worker
COPY api ./api
COPY deploy ./deploy
COPY scripts ./scripts
RUN node scripts/build.mjs --force

# ---- dependencies: production packages only -------------------------------------------------------
FROM node:20.20.2-bookworm-slim AS deps

WORKDIR /app

# Install scripts run only for the packages package.json's "allowScripts" permits (ssh2's optional
# native addon is skipped: no compiler here).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild @swc/core protobufjs \
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

# Only what the worker and the API run: the compiled code (with its SQL migrations and the workflow
# bundle). Listed explicitly so a local node_modules/, data/ or an uncommitted .env with secrets
# never ends up in the image. The configuration is not baked in: mount it at
# /etc/incident-orchestrator/config.yaml (docker-compose.yml does).
COPY package.json ./
COPY --from=build /app/dist ./dist

# The node user (uid 1000) owns only the data folder; the code is root's and read-only for it.
RUN mkdir -p /data /etc/incident-orchestrator && chown node:node /data && chmod 0700 /data
VOLUME ["/data"]
USER node

EXPOSE 3000
CMD ["node", "dist/worker/main.js"]
