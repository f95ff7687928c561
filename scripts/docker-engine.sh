#!/usr/bin/env bash
# A Docker engine for the real-engine tests, on a fresh Debian machine (run as root, no systemd):
# installs Debian's docker.io and debootstrap when missing, starts dockerd in the background
# when no daemon answers `docker info`, and waits (bounded) until one does. Idempotent: with a
# daemon already answering it changes nothing. Any docker CLI on PATH will do (a newer client
# negotiates the API version down to the 20.10 daemon's).
set -euo pipefail

wait_seconds="${DOCKER_ENGINE_WAIT_SECONDS:-60}"
log_file="${DOCKER_ENGINE_LOG:-/var/log/dockerd.log}"

say() { printf 'docker-engine: %s\n' "$*"; }
die() { printf 'docker-engine: ERROR: %s\n' "$*" >&2; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

# Whether CAP_SYS_RESOURCE (bit 24) is in this process's bounding set, so runc can grant it.
can_grant_sys_resource() {
    local mask
    mask=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
    (( (16#$mask >> 24) & 1 ))
}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if ((${#missing[@]} > 0)); then
    [[ "$(id -u)" == 0 ]] || die "missing ${missing[*]}; run as root to install them with apt-get"
    # Unique names, keeping order (docker.io may be listed twice).
    mapfile -t packages < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
    say "installing ${packages[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null \
        || die "apt-get install ${packages[*]} failed"
fi

if engine_answers; then
    say "a Docker daemon answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    exit 0
fi

if [[ -S /var/run/docker.sock ]] && pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is running but does not answer yet; waiting for it"
else
    [[ "$(id -u)" == 0 ]] || die "no Docker daemon answers and starting dockerd needs root"
    mkdir -p "$(dirname "$log_file")" || die "cannot create the directory of $log_file"
    dockerd_args=()
    if ! can_grant_sys_resource; then
        # A sandbox whose bounding set lacks CAP_SYS_RESOURCE cannot start a privileged
        # container (cAdvisor) with plain runc: "unable to apply caps".
        runtime=/usr/local/libexec/clinicalbdd/runc-without-sys-resource
        install -D -m 0755 "$(dirname "$0")/runc-without-sys-resource.sh" "$runtime"
        dockerd_args+=(--add-runtime "runc-without-sys-resource=$runtime" --default-runtime runc-without-sys-resource)
        say "this machine cannot grant CAP_SYS_RESOURCE: containers run under $runtime, which drops it"
    fi
    say "starting dockerd in the background; log: $log_file"
    nohup dockerd "${dockerd_args[@]}" >>"$log_file" 2>&1 </dev/null &
    say "dockerd pid $!"
fi

for ((i = 0; i < wait_seconds; i++)); do
    if engine_answers; then
        say "Docker daemon up after ${i}s ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
        exit 0
    fi
    sleep 1
done
tail -n 20 "$log_file" >&2 2>/dev/null || true
die "no Docker daemon answered \`docker info\` within ${wait_seconds}s; see $log_file"
