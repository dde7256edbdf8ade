# Yitong provider image; docker-compose.yml also runs the demo departmental sites from it.
FROM node:24-bookworm-slim
WORKDIR /app

# Dependencies first, so editing the source does not reinstall them (with the engine's patch,
# which npm install applies).
COPY package.json package-lock.json ./
COPY bin/patch-engine.mjs bin/
RUN npm install --omit=dev && npm cache clean --force

COPY . .
# DATA_DIR (./data): in development the provider generates and keeps its secrets (and PGlite) here.
RUN mkdir -p /app/data && chown node:node /app/data
USER node

EXPOSE 3000
CMD ["node", "src/main.ts"]
