#!/usr/bin/env bash
# Operator entry point for the rehearsal: the rendered platform run with the real servers
# on loopback (rehearsal/stack.ts).
#   npm run rehearse              run the rehearsal's checks (test/rehearsal.test.ts), with
#                                 the failed-request counts of scaling, renewal and reload
#   npm run rehearse -- up [N]    start it with N replicas (default 2) until Ctrl-C
#   npm run rehearse -- bench     the benchmark; writes docs/benchmarks.md
# Needs root (dnsmasq on port 53, a mount namespace for Prometheus), the Debian packages
# that `npm test` installs, and app/.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "rehearse: run as root: dnsmasq listens on port 53 and Prometheus gets its own mount namespace" >&2
    exit 1
fi
missing=()
for tool in nginx dnsmasq prometheus prometheus-alertmanager prometheus-node-exporter \
    prometheus-blackbox-exporter prometheus-nginx-exporter openssl unshare wrk; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "rehearse: missing ${missing[*]}: run 'npm test' once (it installs the Debian packages)" >&2
    exit 1
fi
if [ ! -x app/.venv/bin/gunicorn ]; then
    echo "rehearse: app/.venv is missing: python3 -m venv app/.venv && app/.venv/bin/pip install -r app/requirements-dev.txt" >&2
    exit 1
fi

command=${1:-check}
case "$command" in
    check) exec npx jest --runInBand test/rehearsal ;;
    up) shift; exec node -r ts-node/register/transpile-only rehearsal/cli.ts up "$@" ;;
    bench) exec node -r ts-node/register/transpile-only rehearsal/benchmark.ts ;;
    *)
        echo "usage: npm run rehearse [-- up [replicas] | -- bench]" >&2
        exit 2
        ;;
esac
