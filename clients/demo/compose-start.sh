#!/bin/sh
# The provider service of docker-compose.yml: register the two demo sites with the secrets the
# sites are given, create the demo citizen (once), then start the provider.
set -e
register() { printf %s "$2" | node src/cli/main.ts clients add "clients/demo/$1.json" --secret-stdin; }
register demo-tax "$DEMO_TAX_CLIENT_SECRET"
register demo-social "$DEMO_SOCIAL_CLIENT_SECRET"
printf %s 'yitong-demo-2026' | node src/cli/main.ts citizen create --id-number 11010519491231002X \
  --name 张三 --phone 13800138000 --password-stdin 2>/dev/null || echo "demo citizen already exists"
exec node src/main.ts
