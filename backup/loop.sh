#!/usr/bin/env bash
# The backup job's main process: a backup at start, then one every BACKUP_INTERVAL_MINUTES.
# A failed run is logged and retried at the next interval; the BackupTooOld alert watches.
set -uo pipefail
interval=${BACKUP_INTERVAL_MINUTES:-60}
case $interval in '' | *[!0-9]* | 0) echo "backup-loop: BACKUP_INTERVAL_MINUTES must be a positive integer, got '$interval'" >&2; exit 1 ;; esac
trap 'exit 0' TERM INT
echo "backup-loop: a backup every $interval minutes into $BACKUP_DIR, keeping ${BACKUP_RETENTION:-48} per service" >&2
# Give Prometheus and Grafana a moment to come up with the job before the first run.
sleep "${BACKUP_FIRST_DELAY_SECONDS:-60}" &
wait $!
while true; do
    /usr/local/bin/backup.sh || echo "backup-loop: the run failed; next try in $interval minutes" >&2
    sleep "$((interval * 60))" &
    wait $!
done
