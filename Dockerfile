# cron-agents as a container image: Node 24 LTS on Debian (slim), the service as a non-root user,
# Claude Code's sandbox dependencies installed, the data dir a volume.
#
#   docker build -t cron-agents .
#   docker run -d --name cron-agents -p 3000:3000 -v cron-agents-data:/data \
#     -e ANTHROPIC_API_KEY --stop-timeout 45 cron-agents
#
# Three stages: `deps` installs the production dependencies (compiling better-sqlite3 when no
# prebuilt binary can be fetched), `build` compiles the TypeScript and the dashboard with the dev
# dependencies, and the final stage holds only dist/, package.json, bin/ and the production
# node_modules. The Node image is an argument so that a mirror or a pinned digest can stand in for
# the Docker Hub one: --build-arg NODE_IMAGE=registry.example.com/node:24-slim.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# node-gyp's tools, for when better-sqlite3 has to be compiled against this Node's headers.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Scripts off: `prepare` would build, which needs the sources and the dev dependencies. The one
# dependency that needs its install script, better-sqlite3, is then built on its own: a prebuilt
# binary if one can be fetched, else compiled against the headers the Node image ships in
# /usr/local/include/node (nodedir), so that no header download is needed either.
ENV npm_config_nodedir=/usr/local
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 \
  && node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()" \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
# bubblewrap and socat: Claude Code's sandbox on Linux runs each tool command in bwrap and
# proxies its network through socat. git: agents' git workspaces. tini: PID 1, which passes
# SIGTERM on to the service and reaps the processes agents' tools leave behind.
RUN apt-get update \
  && apt-get install -y --no-install-recommends bubblewrap socat git ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  CRON_AGENTS_DATA_DIR=/data
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The image's `node` user (uid 1000) owns the data dir and nothing else: the code stays read-only to it.
RUN mkdir -p /data && chown node:node /data
USER node
# The SQLite database, the secret key file and the agents' homes and workspaces: keep it.
VOLUME ["/data"]
EXPOSE 3000
# No curl in a slim image: Node's own fetch asks the service's unauthenticated health check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the service stops scheduling, lets running runs finish for CRON_AGENTS_SHUTDOWN_GRACE_MS
# (30 s by default), cancels and records the rest, then exits. Give the container longer than that
# before it is killed: `docker run --stop-timeout 45`, `docker stop -t 45`, compose's
# stop_grace_period, Kubernetes' terminationGracePeriodSeconds (Docker's default is only 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli.js"]
CMD ["serve"]
