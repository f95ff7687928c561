#!/usr/bin/env bash
# Puts one backup archive back: restore.sh <archive.tar.gz> [--service grafana|prometheus]
# The archive's sha256 (<archive>.sha256 beside it) and its tar listing are checked before
# anything is touched; then it is unpacked beside the data and swapped in. The service must
# be stopped (`npm run restore` stops and starts it). Runs in the backup image and in
# test/backup.test.ts; the data directories come from:
#   GRAFANA_DATA_DIR      (default /data/grafana)
#   PROMETHEUS_DATA_DIR   (default /data/prometheus)
set -euo pipefail

log() { printf 'restore: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }
usage="usage: restore.sh <archive.tar.gz> [--service grafana|prometheus]"

archive=""
service=""
while [ $# -gt 0 ]; do
    case $1 in
        --service) [ $# -ge 2 ] || fail "$usage"; service=$2; shift 2 ;;
        --service=*) service=${1#--service=}; shift ;;
        -h | --help) echo "$usage"; exit 0 ;;
        -*) fail "unknown option $1; $usage" ;;
        *) [ -z "$archive" ] || fail "one archive at a time; $usage"; archive=$1; shift ;;
    esac
done
[ -n "$archive" ] || fail "$usage"
[ -f "$archive" ] || fail "no archive at $archive"

# The service is in the archive's name (grafana-<time>.tar.gz); --service must agree with it.
named=$(basename "$archive" | sed -n 's/^\(grafana\|prometheus\)-.*\.tar\.gz$/\1/p')
if [ -z "$service" ]; then
    service=$named
    [ -n "$service" ] || fail "cannot tell the service from the name $(basename "$archive"); give --service grafana|prometheus"
elif [ -n "$named" ] && [ "$named" != "$service" ]; then
    fail "$(basename "$archive") is a $named backup, not $service"
fi
case $service in
    grafana) target=${GRAFANA_DATA_DIR:-/data/grafana}; marker=grafana.db ;;
    prometheus) target=${PROMETHEUS_DATA_DIR:-/data/prometheus}; marker="" ;;
    *) fail "unknown service '$service' (grafana or prometheus)" ;;
esac

checksum="$archive.sha256"
[ -f "$checksum" ] || fail "no checksum file $checksum: refusing to restore an archive that cannot be verified; nothing was touched"
expected=$(cut -d' ' -f1 "$checksum")
actual=$(sha256sum < "$archive" | cut -d' ' -f1)
[ "$expected" = "$actual" ] || fail "checksum mismatch for $(basename "$archive"): expected $expected, got $actual; the archive is corrupt or was changed; nothing was touched"
listing=$(tar -tzf "$archive") || fail "$(basename "$archive") is not a readable tar.gz; nothing was touched"
if [ -n "$marker" ] && ! printf '%s\n' "$listing" | grep -qx "\./$marker"; then
    fail "$(basename "$archive") holds no $marker: not a $service backup; nothing was touched"
fi
log "$(basename "$archive"): checksum $actual verified"

mkdir -p "$target"
# Unpacked inside the target (same filesystem, often a volume root that cannot be renamed),
# then the old entries go and the new ones move up.
staging=$(mktemp -d "$target/.restore-XXXXXX")
trap 'rm -rf "$staging"' EXIT
tar -C "$staging" -xzpf "$archive" --numeric-owner || fail "unpacking $(basename "$archive") failed; the data in $target are unchanged"
find "$target" -mindepth 1 -maxdepth 1 ! -path "$staging" -exec rm -rf {} +
find "$staging" -mindepth 1 -maxdepth 1 -exec mv -t "$target" {} +
log "$service: restored $(basename "$archive") into $target ($(du -sk "$target" | cut -f1) kB)"
