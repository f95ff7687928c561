#!/usr/bin/env bash
# Smoke test of the images test/engine/build-images.sh makes: runs each service image briefly
# the way the program does (command-line flags, user, read-only root, mounts and healthcheck
# command hard-coded here from components/*.ts), checks it answers its health URL from inside
# (docker exec wget …), exercises the config checks and reloads the program uses (promtool,
# amtool, nginx -t / -s reload, grafana cli, SIGHUP), builds app/ and backup/, and removes
# everything it started or built. Exit status 0 only when every check passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
run_id="cbdd-smoke-$$"
label="org.clinicalbdd.smoke=$run_id"
net="$run_id"
work="$(mktemp -d "/tmp/$run_id.XXXXXX")"
failures=()
engine_issues=()

# shellcheck source=test/engine/image-names.sh
source "$here/image-names.sh"

cleanup() {
    local ids
    mapfile -t ids < <(docker ps -aq --filter "label=$label")
    ((${#ids[@]} == 0)) || docker rm -f -v "${ids[@]}" >/dev/null 2>&1 || true
    docker network rm "$net" >/dev/null 2>&1 || true
    mapfile -t ids < <(docker volume ls -q --filter "label=$label")
    ((${#ids[@]} == 0)) || docker volume rm "${ids[@]}" >/dev/null 2>&1 || true
    docker image rm "$run_id/app" "$run_id/backup" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() { printf 'FAIL  %s\n' "$1"; failures+=("$1"); [[ -s "$work/out" ]] && sed 's/^/      /' "$work/out" | tail -n 15; return 0; }
# check NAME CMD...: runs CMD once.
check() { local name="$1"; shift; if "$@" >"$work/out" 2>&1; then pass "$name"; else fail "$name"; fi; }
# eventually NAME CMD...: retries CMD for up to 40 s (a server starting).
eventually() {
    local name="$1" i
    shift
    for ((i = 0; i < 40; i++)); do
        if "$@" >"$work/out" 2>&1; then pass "$name"; return 0; fi
        sleep 1
    done
    fail "$name"
}
# A container on the smoke network, with the program's common options.
start() { # alias docker-run-args...
    local alias="$1"
    shift
    docker run -d --name "$run_id-$alias" --network "$net" --network-alias "$alias" --label "$label" \
        --security-opt no-new-privileges:true "$@" >/dev/null
}
volume() { docker volume create --label "$label" "$run_id-$1" >/dev/null; printf '%s' "$run_id-$1"; }
in_() { local c="$run_id-$1"; shift; docker exec "$c" "$@"; }
healthy() { # alias: the container's own HEALTHCHECK reports healthy
    [[ "$(docker inspect --format '{{.State.Health.Status}}' "$run_id-$1")" == healthy ]]
}
fails() { ! "$@"; }
contains() { # pattern cmd...: cmd succeeds and its output matches pattern (shown when not)
    local pattern="$1" out
    shift
    out="$("$@")" || { printf '%s\n' "$out"; return 1; }
    grep -E -q -- "$pattern" <<<"$out" || { printf 'no match for %s in:\n%s\n' "$pattern" "$out" | head -n 20; return 1; }
}

# The BuildKit-capable docker client (see build-images.sh): with buildx, or older than 23.0.
build_cli=(docker)
export DOCKER_BUILDKIT=0
if docker buildx version >/dev/null 2>&1; then
    DOCKER_BUILDKIT=1
else
    for candidate in docker /usr/bin/docker; do
        if [[ "$("$candidate" version --format '{{.Client.Version}}' 2>/dev/null || true)" =~ ^(1[89]|2[0-2])\. ]]; then
            build_cli=("$candidate"); DOCKER_BUILDKIT=1; break
        fi
    done
fi

nginx_image="$(pulumi_default nginxImage)"
prometheus_image="$(pulumi_default prometheusImage)"
alertmanager_image="$(pulumi_default alertmanagerImage)"
grafana_image="$(pulumi_default grafanaImage)"
node_exporter_image="$(pulumi_default nodeExporterImage)"
cadvisor_image="$(pulumi_default cadvisorImage)"
nginx_exporter_image="$(pulumi_default nginxExporterImage)"
blackbox_image="$(pulumi_default blackboxExporterImage)"
python_image="$(from_of "$root/app/Dockerfile")"
debian_image="$(from_of "$root/backup/Dockerfile")"
for image in "$nginx_image" "$prometheus_image" "$alertmanager_image" "$grafana_image" "$node_exporter_image" \
    "$cadvisor_image" "$nginx_exporter_image" "$blackbox_image" "$python_image" "$debian_image"; do
    docker image inspect "$image" >/dev/null 2>&1 || { echo "missing image $image: run test/engine/build-images.sh" >&2; exit 1; }
done
docker network create --label "$label" "$net" >/dev/null

# ---- app/ and backup/ build on the base images ------------------------------------------
check "docker build app/ (DOCKER_BUILDKIT=$DOCKER_BUILDKIT)" "${build_cli[@]}" build -q -t "$run_id/app" "$root/app"
check "docker build backup/ (DOCKER_BUILDKIT=$DOCKER_BUILDKIT)" "${build_cli[@]}" build -q -t "$run_id/backup" "$root/backup"
check "python image: python, pip, apt-get" docker run --rm "$python_image" sh -c \
    'python --version && pip --version && python -c "import ssl, sqlite3, urllib.request" && command -v apt-get'

# ---- the app as appService.ts runs it ----------------------------------------------------
start app --user 10001:10001 --read-only --tmpfs /tmp:rw,noexec,nosuid,size=256m \
    -e PORT=3000 -e GUNICORN_WORKERS=2 -e MAX_CONCURRENT_REQUESTS=10 -e REQUEST_TIMEOUT_SECONDS=300 \
    -e GRACEFUL_TIMEOUT_SECONDS=30 -e MAX_BODY_BYTES=2097152 -e PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus-multiproc \
    -e LOG_LEVEL=info "$run_id/app"
eventually "app: healthcheck (python urllib /health)" in_ app python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/health', timeout=4)"

# ---- nginx as reverseProxy.ts runs it (config shaped like components/frontDoor/nginxConf.ts) ------
mkdir -p "$work/nginx/etc/nginx/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/nginx/etc/nginx/tls/key.pem" -out "$work/nginx/etc/nginx/tls/cert.pem" >/dev/null 2>&1
cat >"$work/nginx/etc/nginx/nginx.conf" <<'CONF'
worker_processes auto;
user nginx;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    access_log /dev/stdout;
    resolver 127.0.0.11 valid=5s ipv6=off;
    server { listen 80 default_server; return 308 https://$host$request_uri; }
    server {
        listen 443 ssl http2 default_server;
        ssl_certificate /etc/nginx/tls/cert.pem;
        ssl_certificate_key /etc/nginx/tls/key.pem;
        location / { set $app http://app:3000; proxy_pass $app; proxy_next_upstream error; }
    }
    server { listen 8081; location = /stub_status { stub_status; access_log off; } }
}
CONF
docker create --name "$run_id-nginx" --network "$net" --network-alias nginx --label "$label" \
    --security-opt no-new-privileges:true --tmpfs /tmp:rw,nosuid,size=64m \
    --health-cmd 'wget -q -O /dev/null http://127.0.0.1:8081/stub_status' --health-interval 2s \
    "$nginx_image" >/dev/null
tar --owner=0 --group=0 -C "$work/nginx" -cf - etc | docker cp - "$run_id-nginx:/"
docker start "$run_id-nginx" >/dev/null
eventually "nginx: healthcheck (wget stub_status :8081)" in_ nginx wget -q -O /dev/null http://127.0.0.1:8081/stub_status
check "nginx: nginx -t -q" in_ nginx nginx -t -q
check "nginx: nginx -s reload" in_ nginx nginx -s reload
eventually "nginx: https → app /health (http2, resolver, variable proxy_pass)" contains '"status"' \
    in_ nginx wget -q -O - --no-check-certificate https://127.0.0.1/health
# "owner command" of every process in the container (the image has no ps).
# shellcheck disable=SC2016
processes() { in_ "$1" sh -c 'for p in /proc/[0-9]*; do echo "$(stat -c %U "$p") $(cat "$p/comm")"; done'; }
check "nginx: master runs as root" contains '^root nginx$' processes nginx
check "nginx: workers run as nginx" contains '^nginx nginx$' processes nginx
check "nginx: STOPSIGNAL SIGQUIT" contains '^SIGQUIT$' docker inspect --format '{{.Config.StopSignal}}' "$nginx_image"

# ---- nginx exporter as exporters.ts runs it ----------------------------------------------
start nginx-exporter --user 65534:65534 --read-only \
    --health-cmd '/usr/bin/nginx-prometheus-exporter --version' --health-interval 2s \
    "$nginx_exporter_image" --nginx.scrape-uri=http://nginx:8081/stub_status --web.listen-address=:9113
check "nginx-exporter: healthcheck (--version)" in_ nginx-exporter /usr/bin/nginx-prometheus-exporter --version
eventually "nginx-exporter: nginx_up 1 (scraped from nginx)" contains '^nginx_up 1' \
    in_ nginx wget -q -O - http://nginx-exporter:9113/metrics

# ---- Prometheus as prometheusServer.ts runs it ------------------------------------------
start prometheus --user 65534:65534 -v "$(volume prometheus):/prometheus" \
    "$prometheus_image" --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus \
    --storage.tsdb.retention.time=200h --web.listen-address=0.0.0.0:9090 --web.enable-lifecycle --web.enable-admin-api
eventually "prometheus: healthcheck (wget /-/healthy)" in_ prometheus wget -q -O /dev/null http://127.0.0.1:9090/-/healthy
check "prometheus: promtool check config" in_ prometheus promtool check config /etc/prometheus/prometheus.yml
check "prometheus: POST /-/reload (--web.enable-lifecycle)" in_ prometheus wget -q -O /dev/null --post-data= http://127.0.0.1:9090/-/reload
check "prometheus: POST admin tsdb snapshot (--web.enable-admin-api)" contains '"success"' \
    in_ prometheus wget -q -O - --post-data= http://127.0.0.1:9090/api/v1/admin/tsdb/snapshot

# ---- Alertmanager as alertmanagerServer.ts runs it ---------------------------------------
start alertmanager --user 65534:65534 -v "$(volume alertmanager):/alertmanager" \
    "$alertmanager_image" --config.file=/etc/alertmanager/alertmanager.yml --storage.path=/alertmanager --web.listen-address=:9093
eventually "alertmanager: healthcheck (wget /-/healthy)" in_ alertmanager wget -q -O /dev/null http://127.0.0.1:9093/-/healthy
check "alertmanager: amtool check-config" in_ alertmanager amtool check-config /etc/alertmanager/alertmanager.yml
check "alertmanager: reload by SIGHUP (docker kill --signal HUP)" docker kill --signal HUP "$run_id-alertmanager"
eventually "alertmanager: healthy after SIGHUP" in_ alertmanager wget -q -O /dev/null http://127.0.0.1:9093/-/healthy

# ---- Grafana as grafanaServer.ts runs it -------------------------------------------------
grafana_volume="$(volume grafana)"
mkdir -p "$work/grafana/etc/grafana/secrets" "$work/grafana/etc/grafana/provisioning/datasources"
printf 'first-Pass_word.1' >"$work/grafana/etc/grafana/secrets/admin_password"
chmod 0400 "$work/grafana/etc/grafana/secrets/admin_password"
printf 'apiVersion: 1\ndatasources:\n  - name: Prometheus\n    type: prometheus\n    url: http://prometheus:9090\n    isDefault: true\n' \
    >"$work/grafana/etc/grafana/provisioning/datasources/prometheus.yml"
docker create --name "$run_id-grafana" --network "$net" --network-alias grafana --label "$label" \
    --security-opt no-new-privileges:true --user 472 -v "$grafana_volume:/var/lib/grafana" \
    -e GF_SECURITY_ADMIN_USER=admin -e GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/secrets/admin_password \
    -e GF_USERS_ALLOW_SIGN_UP=false -e GF_AUTH_ANONYMOUS_ENABLED=false "$grafana_image" >/dev/null
tar --owner=472 --group=0 -C "$work/grafana" -cf - etc/grafana/secrets/admin_password \
    etc/grafana/provisioning/datasources/prometheus.yml | docker cp - "$run_id-grafana:/"
docker start "$run_id-grafana" >/dev/null
grafana_get() { # password path
    in_ grafana wget -q -O - --auth-no-challenge --user admin --password "$1" "http://127.0.0.1:3000$2"
}
eventually "grafana: healthcheck (wget /api/health)" in_ grafana wget -q -O /dev/null http://127.0.0.1:3000/api/health
check "grafana: /api/user with the password from GF_SECURITY_ADMIN_PASSWORD__FILE" contains '"login": "admin"' \
    grafana_get first-Pass_word.1 /api/user
check "grafana: /api/user refuses a wrong password" fails grafana_get wrong /api/user
check "grafana: /api/datasources lists the provisioned one" contains '"Prometheus"' grafana_get first-Pass_word.1 /api/datasources
printf 'second-Pass_word.2' >"$work/new_password"
docker cp "$work/new_password" "$run_id-grafana:/tmp/new_password"
check "grafana: grafana cli admin reset-admin-password --password-from-stdin (as 472)" docker exec -u 472 "$run_id-grafana" \
    sh -c 'grafana cli --homepath /usr/share/grafana admin reset-admin-password --password-from-stdin < /tmp/new_password'
check "grafana: the new password works" contains '"login": "admin"' grafana_get second-Pass_word.2 /api/user
docker restart "$run_id-grafana" >/dev/null
eventually "grafana: after a restart the rotated password is kept (not re-read from the file)" contains '"login": "admin"' \
    grafana_get second-Pass_word.2 /api/user
check "grafana: grafana.db is SQLite (sqlite3 .backup in the backup image)" docker run --rm --label "$label" \
    -v "$grafana_volume:/data/grafana:ro" "$run_id/backup" \
    sh -c 'sqlite3 /data/grafana/grafana.db ".backup /tmp/g.db" && sqlite3 /tmp/g.db "select login from user" | grep -qx admin'

# ---- node-exporter, cAdvisor, blackbox as exporters.ts runs them -------------------------
start node-exporter --user 65534:65534 --read-only -v /proc:/host/proc:ro -v /sys:/host/sys:ro -v /:/rootfs:ro \
    -v "$(volume textfile):/textfile:ro" "$node_exporter_image" \
    --path.procfs=/host/proc --path.sysfs=/host/sys --path.rootfs=/rootfs \
    '--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+)($|/)' --collector.textfile.directory=/textfile
eventually "node-exporter: healthcheck (wget / :9100)" in_ node-exporter wget -q -O /dev/null http://127.0.0.1:9100/
check "node-exporter: node_filesystem_avail_bytes present" contains '^node_filesystem_avail_bytes' \
    in_ node-exporter wget -q -O - http://127.0.0.1:9100/metrics

# The program runs cAdvisor --privileged. An engine on a machine that cannot grant
# CAP_SYS_RESOURCE fails to start privileged containers ("unable to apply caps: operation not
# permitted") unless its runtime drops that capability; there the smoke runs cAdvisor without.
cadvisor_privileged=(--privileged)
if ! docker run --rm --privileged --label "$label" --entrypoint true "$cadvisor_image" >/dev/null 2>&1; then
    cadvisor_privileged=()
    printf 'note  this engine cannot start --privileged containers; cAdvisor runs without it\n'
fi
start cadvisor "${cadvisor_privileged[@]}" -v /:/rootfs:ro -v /var/run:/var/run:ro -v /sys:/sys:ro \
    -v /var/lib/docker:/var/lib/docker:ro -v /dev/disk:/dev/disk:ro \
    "$cadvisor_image" --docker_only=true --housekeeping_interval=15s --store_container_labels=false
if ((${#cadvisor_privileged[@]} > 0)) && ! in_ cadvisor true >"$work/exec" 2>&1 && grep -q 'unable to apply caps' "$work/exec"; then
    # The engine starts privileged containers only through a runtime that drops
    # CAP_SYS_RESOURCE from the container's config; `runc exec` (docker exec, and so Docker's
    # healthchecks) of such a container still asks for it. The image is checked from a peer.
    engine_issues+=("docker exec into a --privileged container fails on this engine: $(tr -d '\n' <"$work/exec")")
    printf 'ENGINE docker exec into privileged cAdvisor: %s\n' "$(tr -d '\n' <"$work/exec")"
    eventually "cadvisor: /healthz :8080 answers (from a peer container)" in_ nginx wget -q -O /dev/null http://cadvisor:8080/healthz
    check "cadvisor: container_memory_working_set_bytes for a named container" \
        contains "^container_memory_working_set_bytes\\{.*name=\"$run_id-app\"" in_ nginx wget -q -O - http://cadvisor:8080/metrics
else
    eventually "cadvisor: healthcheck (wget /healthz :8080)" in_ cadvisor wget -q -O /dev/null http://127.0.0.1:8080/healthz
    check "cadvisor: container_memory_working_set_bytes for a named container" \
        contains "^container_memory_working_set_bytes\\{.*name=\"$run_id-app\"" in_ cadvisor wget -q -O - http://127.0.0.1:8080/metrics
fi

mkdir -p "$work/blackbox/etc/blackbox_exporter"
cat >"$work/blackbox/etc/blackbox_exporter/config.yml" <<'CONF'
modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      method: GET
      headers:
        Accept: application/json
      preferred_ip_protocol: ip4
      fail_if_not_ssl: true
      tls_config:
        insecure_skip_verify: true
        server_name: localhost
      fail_if_header_not_matches:
        - header: Content-Type
          regexp: application/json
          allow_missing: false
      fail_if_body_not_matches_regexp:
        - '"status":\s*"ok"'
CONF
docker create --name "$run_id-blackbox-exporter" --network "$net" --network-alias blackbox-exporter --label "$label" \
    --security-opt no-new-privileges:true --user 65534:65534 "$blackbox_image" \
    --config.file=/etc/blackbox_exporter/config.yml --web.listen-address=:9115 >/dev/null
tar --owner=0 --group=0 -C "$work/blackbox" -cf - etc | docker cp - "$run_id-blackbox-exporter:/"
docker start "$run_id-blackbox-exporter" >/dev/null
eventually "blackbox: healthcheck (wget /-/healthy :9115)" in_ blackbox-exporter wget -q -O /dev/null http://127.0.0.1:9115/-/healthy
check "blackbox: probe of https://nginx/health through nginx to the app" contains '^probe_success 1' \
    in_ blackbox-exporter wget -q -O - 'http://127.0.0.1:9115/probe?module=http_2xx&target=https://nginx/health'
check "blackbox: reload by SIGHUP" docker kill --signal HUP "$run_id-blackbox-exporter"
eventually "blackbox: healthy after SIGHUP" in_ blackbox-exporter wget -q -O /dev/null http://127.0.0.1:9115/-/healthy

# ---- Docker's own view of the healthchecks ----------------------------------------------
eventually "nginx, nginx-exporter: Docker reports healthy" bash -c \
    "[[ \$(docker inspect --format '{{.State.Health.Status}}' $run_id-nginx $run_id-nginx-exporter | sort -u) == healthy ]]"
check "nginx: docker stop (SIGQUIT) exits promptly" timeout 20 docker stop -t 15 "$run_id-nginx"

if ((${#engine_issues[@]} > 0)); then
    printf '\nengine issues (not image failures; the program depends on them too):\n'
    printf '  %s\n' "${engine_issues[@]}"
fi
if ((${#failures[@]} > 0)); then
    printf '\n%d smoke check(s) failed:\n' "${#failures[@]}"
    printf '  %s\n' "${failures[@]}"
    exit 1
fi
printf '\nall smoke checks passed\n'
