# One image, two commands:
#   worker: npx tsx worker/main.ts   (the default CMD)
#   API:    npx tsx api/server.ts
# The TypeScript runs through tsx (a regular dependency), so there is no build step.
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. Install scripts run only for the packages
# package.json's "allowScripts" permits (ssh2's optional native addon is skipped: no compiler here).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild @swc/core esbuild protobufjs \
  && npm cache clean --force

# Only what the worker and the API run. Listed explicitly so a local node_modules/, data/ or an
# uncommitted .env with secrets never ends up in the image.
COPY tsconfig.json ./
COPY config ./config
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api

ENV NODE_ENV=production \
    INCIDENT_CONFIG=/app/config/example.yaml \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000

RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node

EXPOSE 3000
CMD ["npx", "tsx", "worker/main.ts"]
