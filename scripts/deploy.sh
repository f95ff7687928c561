#!/usr/bin/env bash
# README command 1: deploys the platform with `pulumi up` on the prod stack.
# Defaults: Pulumi's local file backend in .pulumi-state/ and a passphrase secrets provider.
# Switch backend with PULUMI_BACKEND_URL (e.g. https://api.pulumi.com, s3://bucket/prefix).
# Extra arguments go to `pulumi up` (e.g. `npm run deploy -- --yes`).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/platform-env.sh

fail() { printf 'deploy: %s\n' "$*" >&2; exit 1; }

need_pulumi_cli
need_docker_engine
use_node22
[ -d node_modules ] || { echo "deploy: npm ci"; npm ci --no-audit --no-fund --loglevel=error; }

use_platform_backend create
echo "deploy: state backend $PULUMI_BACKEND_URL"

pulumi stack select prod 2>/dev/null || pulumi stack init prod --secrets-provider passphrase
pulumi up --stack prod "$@"
echo
echo "deploy: health:  $(pulumi stack output healthUrl --stack prod)"
