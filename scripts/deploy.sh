#!/usr/bin/env bash
# README command 1: deploys the platform with `pulumi up` on the prod stack.
# Defaults: Pulumi's local file backend in .pulumi-state/ and a passphrase secrets provider.
# Switch backend with PULUMI_BACKEND_URL (e.g. https://api.pulumi.com, s3://bucket/prefix).
# Extra arguments go to `pulumi up` (e.g. `npm run deploy -- --yes`).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'deploy: %s\n' "$*" >&2; exit 1; }

command -v pulumi >/dev/null 2>&1 || fail "the Pulumi CLI is not installed.
  Install it:   curl -fsSL https://get.pulumi.com | sh   (then open a new shell)
  or see https://www.pulumi.com/docs/install/ for packages (brew, choco, apt via the tarball)."

docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info failed).
  On Debian/Ubuntu:  sudo apt-get install docker.io && sudo systemctl enable --now docker
  A remote engine:   export DOCKER_HOST=ssh://user@host   (the user must be in the docker group)."

[ -d node_modules ] || { echo "deploy: npm ci"; npm ci --no-audit --no-fund --loglevel=error; }

if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
    mkdir -p .pulumi-state
    export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
echo "deploy: state backend $PULUMI_BACKEND_URL"

if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    passphrase_file="${XDG_CONFIG_HOME:-$HOME/.config}/clinical-bdd-creator/passphrase"
    if [ ! -f "$passphrase_file" ]; then
        mkdir -p "$(dirname "$passphrase_file")"
        (umask 077 && head -c 32 /dev/urandom | base64 > "$passphrase_file")
        echo "deploy: created the stack passphrase in $passphrase_file — back it up: without it the stack's secrets cannot be read."
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
fi

pulumi stack select prod 2>/dev/null || pulumi stack init prod --secrets-provider passphrase
pulumi up --stack prod "$@"
echo
echo "deploy: health:  $(pulumi stack output healthUrl --stack prod)"
