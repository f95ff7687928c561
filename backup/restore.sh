#!/usr/bin/env bash
# Puts one backup archive back: restore.sh [--check] <archive.tar.gz> [--service grafana|prometheus]
# The archive's sha256 (<archive>.sha256 beside it) and its tar listing are checked before
# anything is touched (--check stops there); then it is unpacked beside the data and swapped
# in: the old entries are moved aside, the new ones moved up, the old ones deleted. A failure
# or SIGTERM/SIGINT before the swap is done moves the old entries back. Exit codes:
#   0  restored
#   1  not restored; the data are unchanged
#   3  not restored, and the old data could not all be put back: restore again
# The service must be stopped (`npm run restore` stops and starts it). Runs in the backup
# image (in a one-shot container with the data volume writable) and in test/backup.test.ts;
# the data directories come from:
#   GRAFANA_DATA_DIR      (default /data/grafana)
#   PROMETHEUS_DATA_DIR   (default /data/prometheus)
set -euo pipefail

log() { printf 'restore: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }
# Stopped (docker stop sends SIGTERM to this script, pid 1 of its container): exit 1, and
# once the swap has begun, finish() below puts the old data back first.
trap 'log "stopped by a signal; nothing was touched"; exit 1' INT TERM
usage="usage: restore.sh [--check] <archive.tar.gz> [--service grafana|prometheus]"

archive=""
service=""
check_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --check) check_only=1; shift ;;
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
# A here-string, not a pipe: under pipefail, grep -q quitting early could fail the writer (SIGPIPE).
if [ -n "$marker" ] && ! grep -qx "\./$marker" <<<"$listing"; then
    fail "$(basename "$archive") holds no $marker: not a $service backup; nothing was touched"
fi
log "$(basename "$archive"): checksum $actual verified ($(printf '%s\n' "$listing" | wc -l) entries)"
[ "$check_only" = 0 ] || exit 0

mkdir -p "$target"
[ -w "$target" ] || fail "$target is not writable (mounted read-only?); nothing was touched"
# What a killed restore left (the service is stopped: nothing else writes here).
find "$target" -mindepth 1 -maxdepth 1 -name '.restore-*' -exec rm -rf {} +
# Unpacked inside the target (same filesystem, often a volume root that cannot be renamed),
# then the old entries move aside, the new ones move up, and the old ones are deleted.
staging=""
old=""
phase=unpacking
finish() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ "$phase" = aside ] || [ "$phase" = up ]; then
        # Put the old entries back; once new ones have moved up, they go back to staging first.
        if [ "$phase" = up ]; then find "$target" -mindepth 1 -maxdepth 1 ! -name '.restore-*' -exec mv -t "$staging" {} +; fi
        find "$old" -mindepth 1 -maxdepth 1 -exec mv -t "$target" {} +
        if [ -z "$(find "$old" -mindepth 1 -maxdepth 1 | head -n 1)" ]; then
            log "stopped part way through the swap: the old data are back in $target, unchanged"
            rc=1
        else
            log "stopped part way through the swap, and the old data could not all be moved back (they are in $old): restore again"
            rm -rf "$staging"
            exit 3
        fi
    fi
    [ "$phase" != swapped ] || rc=0
    [ -z "$staging" ] || rm -rf "$staging"
    [ -z "$old" ] || rm -rf "$old"
    exit "$rc"
}
# Installed before the directories are made, so a signal at any point removes them.
trap finish EXIT
trap 'log "stopped by a signal"; exit 1' INT TERM
staging=$(mktemp -d "$target/.restore-new-XXXXXX") || fail "cannot write in $target; nothing was touched"
old=$(mktemp -d "$target/.restore-old-XXXXXX") || fail "cannot write in $target; nothing was touched"
tar -C "$staging" -xzpf "$archive" --numeric-owner || fail "unpacking $(basename "$archive") failed (disk full?); the data in $target are unchanged"
phase=aside
find "$target" -mindepth 1 -maxdepth 1 ! -name '.restore-*' -exec mv -t "$old" {} +
phase=up
find "$staging" -mindepth 1 -maxdepth 1 -exec mv -t "$target" {} +
phase=swapped
log "$service: restored $(basename "$archive") into $target ($(du -sk --exclude='.restore-*' "$target" | cut -f1) kB)"
