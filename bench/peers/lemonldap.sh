#!/usr/bin/env bash
# Run LemonLDAP::NG 2.16 (Debian packages) as an OpenID Connect provider for
# side-by-side benchmarks, the way Debian documents it in production:
#
#   nginx  --(FastCGI, unix socket)-->  llng-fastcgi-server (portal)  -->  redis
#
# Usage:
#   bench/peers/lemonldap.sh start <port> <dir>   # prints one line of JSON
#   bench/peers/lemonldap.sh stop <dir>           # idempotent
#
# Everything (config, keys, sockets, pid files, logs, caches, redis data)
# lives in <dir>; /etc/lemonldap-ng, /var/lib/lemonldap-ng and the system
# nginx are not used. nginx and the FastCGI server are pinned to core 0; the
# private redis-server is not pinned.
#
# Needs (Debian): lemonldap-ng lemonldap-ng-fastcgi-server nginx redis-server
#   libapache-session-browseable-perl libredis-perl jq openssl curl, plus the
#   portal's Recommends (at least libgd-securityimage-perl: the 2.16 portal
#   does not initialise without GD::SecurityImage).
#
# Environment knobs (optional):
#   LLNG_NPROC   FastCGI portal workers (default 7, the package default)
#   LLNG_USER    user the FastCGI server / nginx workers run as when started
#                as root (default www-data; llng-fastcgi-server refuses root)
set -euo pipefail

readonly NAME="LemonLDAP::NG"
readonly HTDOCS=/usr/share/lemonldap-ng/portal/htdocs
readonly TEMPLATES=/usr/share/lemonldap-ng/portal/templates
readonly NPROC="${LLNG_NPROC:-7}"
readonly RUN_AS="${LLNG_USER:-www-data}"

# OIDC client and test user exposed to the benchmark.
readonly CLIENT_ID=bench-client
readonly CLIENT_SECRET=bench-secret
readonly CC_SCOPE=api                   # any scope; LL::NG accepts undeclared ones
readonly USER_SCOPE="openid profile email"
readonly DEMO_USER=dwho                 # Demo backend: password == login
readonly DEMO_PASSWORD=dwho

log() { printf 'lemonldap.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $0 start <port> <dir>
       $0 stop <dir>
EOF
  exit 2
}

# ---------------------------------------------------------------- stopping --

# Is $1 a live process whose command line matches the regex $2?
alive_as() {
  local pid=$1 pattern=$2 cmd
  [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" =~ $pattern ]]
}

# Is process $1 running (zombies awaiting their reaper count as gone)?
running() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "$state" != Z ]]
}

# Is any of the pids given still running?
any_alive() {
  local p
  for p in "$@"; do running "$p" && return 0; done
  return 1
}

# Stop the process recorded in pid file $1 (if it is still what we started,
# judged by regex $2) with signal $3, together with its direct children, and
# wait until all of them are gone.
stop_pidfile() {
  local pidfile=$1 pattern=$2 sig=$3 pid pids i p
  [[ -f "$pidfile" ]] || return 0
  pid=$(tr -dc '0-9' <"$pidfile")
  if alive_as "$pid" "$pattern"; then
    # Children (nginx / FastCGI workers) are collected first so that we can
    # wait for them too.
    pids="$pid $( (pgrep -P "$pid" || true) | tr "\n" " ")"
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do       # up to 10 s, then SIGKILL
      any_alive $pids || break
      sleep 0.1
    done
    for p in $pids; do
      running "$p" && kill -KILL "$p" 2>/dev/null || true
    done
    for ((i = 0; i < 50; i++)); do
      any_alive $pids || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
}

do_stop() {
  local dir=$1
  [[ -d "$dir/run" ]] || return 0
  stop_pidfile "$dir/run/nginx.pid" 'nginx' QUIT
  stop_pidfile "$dir/run/llng-fastcgi.pid" 'perl|llng|fcgi' TERM
  stop_pidfile "$dir/run/redis.pid" 'redis-server' TERM
}

# ---------------------------------------------------------------- starting --

# A TCP port >= 20000 that nobody listens on (and that is not $1).
spare_port() {
  local avoid=$1 p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    [[ "$p" != "$avoid" ]] || continue
    [[ -z "$(ss -Hltn "sport = :$p")" ]] && { echo "$p"; return 0; }
  done
  return 1
}

# Wait (up to $2 tenths of a second) until command "$@" after $1 succeeds.
wait_for() {
  local tries=$1 i; shift
  for ((i = 0; i < tries; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# RSA key pair for ID token signing. LL::NG 2.16 only signs with RSA
# (RS256/384/512) or HMAC; ES256 arrived in 2.17. PKCS#1 private key, as the
# 2.16 manager generates.
make_keys() {
  local dir=$1
  openssl genrsa -traditional -out "$dir/keys/oidc-sig.key" 2048 2>/dev/null
  openssl rsa -in "$dir/keys/oidc-sig.key" -pubout -out "$dir/keys/oidc-sig.pub" 2>/dev/null
}

# lemonldap-ng.ini: local settings, found through LLNG_DEFAULTCONFFILE.
write_ini() {
  local dir=$1
  cat >"$dir/conf/lemonldap-ng.ini" <<EOF
[all]
; warn: logging must not dominate. Std writes to the FastCGI server's stderr,
; i.e. <dir>/log/llng-fastcgi.log (the package default for FastCGI, Syslog,
; would need a syslog daemon).
logLevel   = warn
logger     = Lemonldap::NG::Common::Logger::Std
userLogger = Lemonldap::NG::Common::Logger::Std
; no "checkTime = 1": the Debian ini says to comment it out for performance

[configuration]
type    = File
dirName = $dir/conf
localStorage = Cache::FileCache
localStorageOptions = { \\
    'namespace'          => 'lemonldap-ng-config', \\
    'default_expires_in' => 600, \\
    'directory_umask'    => '007', \\
    'cache_root'         => '$dir/cache', \\
    'cache_depth'        => 3, \\
}

[portal]
staticPrefix = /static
templateDir  = $TEMPLATES
languages    = en

[handler]
status = 0
useRedirectOnError = 1
EOF
}

# lmConf-1.json: the global configuration (File backend).
write_conf() {
  local dir=$1 port=$2 redis_port=$3
  jq -n \
    --arg portal "http://127.0.0.1:$port/" \
    --arg redis "127.0.0.1:$redis_port" \
    --arg cache "$dir/cache" \
    --arg clientId "$CLIENT_ID" \
    --arg clientSecret "$CLIENT_SECRET" \
    --arg kid "$(openssl rand -hex 8)" \
    --rawfile priv "$dir/keys/oidc-sig.key" \
    --rawfile pub "$dir/keys/oidc-sig.pub" \
    --arg date "$(date +%s)" \
    '{
      cfgNum: 1, cfgVersion: "2.16.1", cfgAuthor: "bench/peers/lemonldap.sh",
      cfgDate: $date,
      portal: $portal,
      # no handler-protected virtual hosts (the built-in default is not a
      # valid per-vhost map and makes the handler die on load)
      locationRules: {},

      # Demo backend: built-in users dwho/dwho, rtyler/rtyler, msmith/msmith
      authentication: "Demo", userDB: "Same", passwordDB: "Demo",
      demoExportedVars: { uid: "uid", cn: "cn", mail: "mail" },

      # Sessions in Redis; OIDC (access token) sessions and persistent
      # sessions use the same private redis. Index as in the LL::NG
      # "Browseable NoSQL" documentation ("WHATTOTRACE ipAddr", where
      # whatToTrace is uid by default).
      globalStorage: "Apache::Session::Browseable::Redis",
      globalStorageOptions: {
        server: $redis,
        Index: "uid ipAddr",
        generateModule: "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"
      },
      oidcStorage: "Apache::Session::Browseable::Redis",
      oidcStorageOptions: {
        server: $redis,
        Index: "_session_kind _utime",
        generateModule: "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"
      },
      # Per-server session cache (package default, relocated into <dir>)
      localSessionStorage: "Cache::FileCache",
      localSessionStorageOptions: {
        namespace: "lemonldap-ng-sessions", default_expires_in: 600,
        directory_umask: "007", cache_root: $cache, cache_depth: 3
      },

      # OpenID Connect issuer (issuer = portal URL, endpoints under /oauth2/)
      issuerDBOpenIDConnectActivation: 1,
      oidcServicePrivateKeySig: $priv,
      oidcServicePublicKeySig: $pub,
      oidcServiceKeyIdSig: $kid,
      oidcServiceAccessTokenExpiration: 3600,

      oidcRPMetaDataOptions: {
        bench: {
          oidcRPMetaDataOptionsClientID: $clientId,
          oidcRPMetaDataOptionsClientSecret: $clientSecret,
          oidcRPMetaDataOptionsDisplayName: "Benchmark client",
          oidcRPMetaDataOptionsPublic: 0,
          oidcRPMetaDataOptionsAllowClientCredentialsGrant: 1,
          oidcRPMetaDataOptionsAllowPasswordGrant: 1,
          oidcRPMetaDataOptionsIDTokenSignAlg: "RS256",
          oidcRPMetaDataOptionsAccessTokenExpiration: 3600,
          oidcRPMetaDataOptionsIDTokenExpiration: 3600
        }
      },
      # claim => session attribute (released by scope: profile, email)
      oidcRPMetaDataExportedVars: {
        bench: { name: "cn", preferred_username: "uid", email: "mail" }
      }
    }' >"$dir/conf/lmConf-1.json"
}

# nginx.conf: Debian's /etc/lemonldap-ng/portal-nginx.conf wrapped in a
# self-contained main config (pid, logs and temp paths inside <dir>).
write_nginx_conf() {
  local dir=$1 port=$2 user_line=""
  [[ $EUID -ne 0 ]] || user_line="user $RUN_AS;"
  cp /etc/nginx/fastcgi_params /etc/nginx/mime.types "$dir/nginx/"
  cat >"$dir/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;      # everything is pinned to one core anyway
pid $dir/run/nginx.pid;
error_log $dir/log/nginx-error.log warn;

events { worker_connections 1024; }

http {
  include $dir/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 65;
  access_log off;        # logging must not dominate the benchmark
  server_tokens off;

  client_body_temp_path $dir/nginx/tmp/client_body;
  fastcgi_temp_path     $dir/nginx/tmp/fastcgi;
  proxy_temp_path       $dir/nginx/tmp/proxy;
  uwsgi_temp_path       $dir/nginx/tmp/uwsgi;
  scgi_temp_path        $dir/nginx/tmp/scgi;

  upstream llng_portal_upstream {
    server unix:$dir/run/llng-fastcgi.sock;
  }

  server {
    # default_server + server_name _: answer whatever Host is sent
    # (127.0.0.1:$port in practice).
    listen 127.0.0.1:$port default_server;
    server_name _;
    root $HTDOCS/;

    if (\$uri !~ ^/((static|javascript|favicon).*|.*\.psgi)) {
      rewrite ^/(.*)$ /index.psgi/\$1 break;
    }

    location ~ ^(?<sc>/.*\.psgi)(?:$|/) {
      include $dir/nginx/fastcgi_params;
      fastcgi_pass llng_portal_upstream;
      fastcgi_param HTTP_HOST \$host;
      fastcgi_param LLTYPE psgi;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_split_path_info ^(.*\.psgi)(/.*)$;
      fastcgi_param PATH_INFO \$fastcgi_path_info;

      # REST/SOAP admin functions stay disabled, as in the Debian file
      location ~ ^/index.psgi/(adminSessions|proxy|sessions|config|notification) {
        fastcgi_pass llng_portal_upstream;
        deny all;
      }
    }

    index index.psgi;
    location / { try_files \$uri \$uri/ =404; }
    location /static/ { alias $HTDOCS/static/; }
    location /javascript/ { alias /usr/share/javascript/; }
  }
}
EOF
}

write_redis_conf() {
  local dir=$1 redis_port=$2
  cat >"$dir/redis/redis.conf" <<EOF
bind 127.0.0.1
port $redis_port
protected-mode yes
daemonize yes
pidfile $dir/run/redis.pid
logfile $dir/log/redis.log
loglevel warning
dir $dir/redis
# sessions are throw-away benchmark data: no RDB/AOF persistence
save ""
appendonly no
EOF
}

on_start_failure() {
  local rc=$? dir=$1
  log "start FAILED (exit $rc); stopping what was started. Logs in $dir/log:"
  for f in "$dir"/log/*; do
    [[ -s "$f" ]] || continue
    log "--- $f (last lines)"
    tail -n 15 "$f" >&2 || true
  done
  do_stop "$dir" || true
  exit "$((rc == 0 ? 1 : rc))"
}

do_start() {
  local port=$1 dir=$2 redis_port fcgi_user=() base discovery
  [[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "bad port: $port"
  [[ "$NPROC" =~ ^[1-9][0-9]*$ ]] || die "bad LLNG_NPROC: $NPROC"
  for cmd in nginx redis-server redis-cli llng-fastcgi-server jq openssl curl taskset ss pgrep; do
    command -v "$cmd" >/dev/null || die "missing command: $cmd (apt-get install the packages listed in $0)"
  done
  # Redis session modules, and GD::SecurityImage (a Recommends of the portal
  # package: without it the 2.16 portal fails to initialise).
  perl -MApache::Session::Browseable::Redis -MRedis -MGD::SecurityImage -e1 2>/dev/null ||
    die "missing Perl modules: apt-get install libapache-session-browseable-perl libredis-perl libgd-securityimage-perl"

  # Fresh <dir> (stop anything a previous run left there first).
  [[ -n "$dir" && "$dir" != "/" ]] || die "refusing to use dir '$dir'"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  # Safety: only wipe an empty directory or one this script set up before.
  if [[ -n "$(ls -A "$dir")" && ! -f "$dir/conf/lemonldap-ng.ini" ]]; then
    die "$dir is not empty and was not created by $0; refusing to wipe it"
  fi
  do_stop "$dir"
  find "$dir" -mindepth 1 -delete
  [[ -z "$(ss -Hltn "sport = :$port")" ]] || die "port $port is already in use"
  mkdir -p "$dir"/{conf,keys,run,log,cache,redis,nginx/tmp}
  trap 'on_start_failure "$dir"' EXIT

  # The FastCGI server refuses to run as root: run it (and nginx workers) as
  # $RUN_AS, which needs to write sockets, pid file, caches and nginx temp.
  if [[ $EUID -eq 0 ]]; then
    id "$RUN_AS" >/dev/null 2>&1 || die "user $RUN_AS does not exist"
    fcgi_user=(-u "$RUN_AS" -g "$(id -gn "$RUN_AS")")
    chown "$RUN_AS:" "$dir"/{run,cache,log} "$dir/nginx/tmp"
    su -s /bin/sh "$RUN_AS" -c "test -r '$HTDOCS/index.psgi' && test -x '$dir'" ||
      die "$RUN_AS cannot reach $dir (a parent directory is not searchable)"
  fi

  redis_port=$(spare_port "$port") || die "no spare port for redis"
  log "dir=$dir port=$port redis=127.0.0.1:$redis_port workers=$NPROC"

  make_keys "$dir"
  write_ini "$dir"
  write_conf "$dir" "$port" "$redis_port"
  write_nginx_conf "$dir" "$port"
  write_redis_conf "$dir" "$redis_port"
  # Config (contains the private signing key) readable by the portal only.
  if [[ $EUID -eq 0 ]]; then
    chgrp -R "$(id -gn "$RUN_AS")" "$dir/conf" "$dir/keys"
    chmod 750 "$dir/conf" "$dir/keys"
    chmod 640 "$dir"/conf/* "$dir"/keys/*
  fi

  # 1. private redis (not pinned)
  redis-server "$dir/redis/redis.conf"
  wait_for 50 redis-cli -h 127.0.0.1 -p "$redis_port" ping || die "redis did not start"

  # 2. LL::NG FastCGI server on core 0, same options as the Debian unit but
  #    kept in the foreground (detached with setsid) so that its stderr -
  #    where the Std logger writes - ends up in log/llng-fastcgi.log instead
  #    of /dev/null. The process manager writes the pid file.
  LLNG_DEFAULTCONFFILE="$dir/conf/lemonldap-ng.ini" \
    setsid taskset -c 0 llng-fastcgi-server --foreground "${fcgi_user[@]}" \
      -n "$NPROC" -p "$dir/run/llng-fastcgi.pid" -s "$dir/run/llng-fastcgi.sock" \
      </dev/null >>"$dir/log/llng-fastcgi.log" 2>&1 &
  # (setsid/taskset exec in place, so $! is the FastCGI manager itself; record
  # it now so that a failed start can still be cleaned up.)
  echo "$!" >"$dir/run/llng-fastcgi.pid"
  wait_for 100 test -S "$dir/run/llng-fastcgi.sock" || die "FastCGI socket did not appear"
  sleep 0.5
  alive_as "$(cat "$dir/run/llng-fastcgi.pid")" 'llng|perl' || die "llng-fastcgi-server exited"

  # 3. nginx on core 0
  nginx -t -q -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/log/nginx-error.log" ||
    die "nginx config test failed"
  taskset -c 0 nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/log/nginx-error.log"
  wait_for 50 test -s "$dir/run/nginx.pid" || die "nginx did not start"

  # 4. wait for the discovery document (each worker compiles the portal on
  #    its first request), then warm all workers up.
  base="http://127.0.0.1:$port"
  discovery="$base/.well-known/openid-configuration"
  if ! wait_for 300 curl -fsS -o /dev/null --max-time 10 "$discovery"; then
    curl -sS --max-time 10 "$discovery" 2>&1 | head -c 600 >&2 || true
    die "discovery document did not answer at $discovery"
  fi
  for _ in 1 2 3; do
    seq $((NPROC * 2)) | xargs -P $((NPROC * 2)) -I{} \
      curl -fsS -o /dev/null --max-time 30 "$discovery" || die "warm-up failed"
  done

  local meta
  meta=$(curl -fsS --max-time 10 "$discovery") || die "cannot read discovery"
  trap - EXIT
  jq -cn --argjson m "$meta" \
    --arg discovery "$discovery" --arg clientId "$CLIENT_ID" --arg clientSecret "$CLIENT_SECRET" \
    --arg ccScope "$CC_SCOPE" --arg username "$DEMO_USER" --arg password "$DEMO_PASSWORD" \
    --arg userScope "$USER_SCOPE" --arg version "$(installed_version)" --arg name "$NAME" \
    '{name: $name, version: $version, issuer: $m.issuer, discovery: $discovery,
      token: $m.token_endpoint, userinfo: $m.userinfo_endpoint,
      clientId: $clientId, clientSecret: $clientSecret, ccScope: $ccScope,
      username: $username, password: $password, userScope: $userScope}'
}

# Upstream version of the installed Debian package, e.g. 2.16.1
installed_version() {
  dpkg-query -W -f '${Version}' liblemonldap-ng-portal-perl 2>/dev/null |
    sed -E 's/^[0-9]+://; s/[+~-].*$//' || echo "2.16"
}

# -------------------------------------------------------------------- main --

case "${1:-}" in
  start) [[ $# -eq 3 ]] || usage; do_start "$2" "$3" ;;
  stop)
    [[ $# -eq 2 ]] || usage
    [[ -d "$2" ]] || exit 0
    do_stop "$(cd "$2" && pwd -P)"
    ;;
  *) usage ;;
esac
