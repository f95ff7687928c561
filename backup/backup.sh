#!/usr/bin/env bash
# One backup run: a consistent copy of Grafana's and Prometheus' data, each as a tar.gz with
# a sha256 checksum beside it, the oldest pruned beyond BACKUP_RETENTION per service, and the
# newest archive's time written for node-exporter's textfile collector.
# The same script runs in the backup job's container (backup/loop.sh calls it every
# BACKUP_INTERVAL_MINUTES) and in test/backup.test.ts; everything it touches comes from:
#   BACKUP_DIR            where archives go (required): $BACKUP_DIR/<service>/<service>-<UTC time>.tar.gz
#   BACKUP_RETENTION      archives kept per service (default 48)
#   BACKUP_SERVICES       which services (default "grafana prometheus")
#   GRAFANA_DATA_DIR      Grafana's data directory (default /data/grafana)
#   PROMETHEUS_DATA_DIR   Prometheus' TSDB directory (default /data/prometheus)
#   PROMETHEUS_URL        Prometheus with --web.enable-admin-api (default http://prometheus:9090)
#   BACKUP_TEXTFILE_DIR   node-exporter's textfile directory; empty writes no metrics
#   BACKUP_LOCK_WAIT_SECONDS  how long to wait for a run already going (default 0: fail at once)
set -euo pipefail

backup_dir=${BACKUP_DIR:?backup: BACKUP_DIR is not set}
retention=${BACKUP_RETENTION:-48}
services=${BACKUP_SERVICES:-grafana prometheus}
grafana_data=${GRAFANA_DATA_DIR:-/data/grafana}
prometheus_data=${PROMETHEUS_DATA_DIR:-/data/prometheus}
prometheus_url=${PROMETHEUS_URL:-http://prometheus:9090}
textfile_dir=${BACKUP_TEXTFILE_DIR:-}

log() { printf 'backup: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

case $retention in '' | *[!0-9]* | 0) fail "BACKUP_RETENTION must be a positive integer, got '$retention'" ;; esac
mkdir -p "$backup_dir"

# One run at a time: the loop and `npm run backup` may meet; a run waits up to
# BACKUP_LOCK_WAIT_SECONDS (default 0) for the other. A lock left by a killed run is taken over.
lock="$backup_dir/.lock"
lock_wait=${BACKUP_LOCK_WAIT_SECONDS:-0}
case $lock_wait in '' | *[!0-9]*) fail "BACKUP_LOCK_WAIT_SECONDS must be a whole number, got '$lock_wait'" ;; esac
waited=0
until mkdir "$lock" 2>/dev/null; do
    holder=$(cat "$lock/pid" 2>/dev/null || true)
    if [ -n "$holder" ] && kill -0 "$holder" 2>/dev/null; then
        [ "$waited" -lt "$lock_wait" ] || fail "another backup (pid $holder) is running"
        [ "$waited" -gt 0 ] || log "waiting for the backup of pid $holder to finish"
        sleep 1
        waited=$((waited + 1))
        continue
    fi
    log "taking over the stale lock of pid ${holder:-unknown}"
    rm -rf "$lock"
done
echo "$$" > "$lock/pid"
# What a killed run left behind (we hold the lock, so no run is writing them now).
find "$backup_dir" -mindepth 1 -maxdepth 2 \( -name '.staging-*' -o -name '.*.partial' \) -exec rm -rf {} +
staging=$(mktemp -d "$backup_dir/.staging-XXXXXX")
trap 'rm -rf "$staging" "$lock"' EXIT

# Writes $1 (a directory) as <service>-<time>.tar.gz with its .sha256, atomically.
write_archive() {
    local service=$1 source=$2 dir stamp archive
    dir="$backup_dir/$service"
    mkdir -p "$dir"
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    while [ -e "$dir/$service-$stamp.tar.gz" ]; do
        sleep 1
        stamp=$(date -u +%Y%m%dT%H%M%SZ)
    done
    archive="$service-$stamp.tar.gz"
    tar -C "$source" -czf "$dir/.$archive.partial" .
    printf '%s  %s\n' "$(sha256sum < "$dir/.$archive.partial" | cut -d' ' -f1)" "$archive" > "$dir/.$archive.sha256.partial"
    mv "$dir/.$archive.partial" "$dir/$archive"
    mv "$dir/.$archive.sha256.partial" "$dir/$archive.sha256"
    log "$service: wrote $dir/$archive ($(stat -c %s "$dir/$archive") bytes, sha256 $(cut -c1-12 "$dir/$archive.sha256"))"
}

# Keeps the newest $retention archives of a service (names sort by time).
prune() {
    local dir="$backup_dir/$1" old
    [ -d "$dir" ] || return 0
    find "$dir" -maxdepth 1 -name "$1-*.tar.gz" | sort | head -n "-$retention" | while read -r old; do
        rm -f "$old" "$old.sha256"
        log "$1: pruned $(basename "$old") (keeping $retention)"
    done
}

backup_grafana() {
    local copy="$staging/grafana"
    [ -f "$grafana_data/grafana.db" ] || fail "grafana: no grafana.db in $grafana_data"
    mkdir -p "$copy"
    # Everything but the database as files; the database through SQLite's online backup,
    # which reads a consistent copy while Grafana keeps writing.
    tar -C "$grafana_data" --exclude=./grafana.db --exclude=./grafana.db-journal \
        --exclude=./grafana.db-wal --exclude=./grafana.db-shm -cf - . | tar -C "$copy" -xpf -
    sqlite3 -readonly "$grafana_data/grafana.db" ".timeout 10000" ".backup '$copy/grafana.db'"
    [ "$(id -u)" -ne 0 ] || chown "$(stat -c %u:%g "$grafana_data/grafana.db")" "$copy/grafana.db"
    write_archive grafana "$copy"
}

backup_prometheus() {
    local answer name snapshot
    # The snapshot API writes a consistent copy (hard links to the blocks plus the head) under snapshots/.
    answer=$(curl -fsS --max-time 120 -X POST "$prometheus_url/api/v1/admin/tsdb/snapshot") ||
        fail "prometheus: POST $prometheus_url/api/v1/admin/tsdb/snapshot failed (is --web.enable-admin-api set?)"
    name=$(printf '%s' "$answer" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
    [ -n "$name" ] || fail "prometheus: unexpected snapshot answer: $answer"
    snapshot="$prometheus_data/snapshots/$name"
    [ -d "$snapshot" ] || fail "prometheus: snapshot $name is not in $prometheus_data/snapshots (is PROMETHEUS_DATA_DIR its volume?)"
    write_archive prometheus "$snapshot"
    # Its hard links would keep every block alive past Prometheus' retention.
    rm -rf "$snapshot"
}

# Unix time of each service's newest archive, for the BackupTooOld alert.
write_metrics() {
    [ -n "$textfile_dir" ] || return 0
    local file="$textfile_dir/clinical_bdd_backup.prom" service newest
    mkdir -p "$textfile_dir"
    {
        echo "# HELP clinical_bdd_backup_last_success_timestamp_seconds Unix time of the newest checksummed backup archive."
        echo "# TYPE clinical_bdd_backup_last_success_timestamp_seconds gauge"
        for service in $services; do
            newest=$(find "$backup_dir/$service" -maxdepth 1 -name "$service-*.tar.gz" 2>/dev/null | sort | tail -n 1)
            if [ -z "$newest" ] || [ ! -f "$newest.sha256" ]; then continue; fi
            echo "clinical_bdd_backup_last_success_timestamp_seconds{service=\"$service\"} $(stat -c %Y "$newest")"
        done
        echo "# HELP clinical_bdd_backup_archive_bytes Size of the newest backup archive."
        echo "# TYPE clinical_bdd_backup_archive_bytes gauge"
        for service in $services; do
            newest=$(find "$backup_dir/$service" -maxdepth 1 -name "$service-*.tar.gz" 2>/dev/null | sort | tail -n 1)
            [ -n "$newest" ] || continue
            echo "clinical_bdd_backup_archive_bytes{service=\"$service\"} $(stat -c %s "$newest")"
        done
    } > "$file.partial"
    chmod 0644 "$file.partial"
    mv "$file.partial" "$file"
}

# Each service in its own subshell with errexit in force: one failing leaves the other's backup.
status=0
for service in $services; do
    set +e
    case $service in
        grafana) (set -e; backup_grafana) ;;
        prometheus) (set -e; backup_prometheus) ;;
        *) log "unknown service '$service' (grafana or prometheus)"; false ;;
    esac
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then status=1; fi
    prune "$service"
done
write_metrics
if [ "$status" -eq 0 ]; then log "done"; else log "finished with errors"; fi
exit "$status"
