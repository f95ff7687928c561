#!/usr/bin/env bash
# `npm run bench`: the front-door benchmark on the real engine (test/engine/frontDoor.bench.ts):
# the program deployed with 1 replica, then scaled to 2 and 3, nginx + TLS measured against a
# replica reached directly; writes docs/benchmarks.md. The engine and the images are set up
# as scripts/test.sh sets them up.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/platform-env.sh
use_node22
bash scripts/docker-engine.sh
bash test/engine/build-images.sh
exec npx jest --ci --testMatch '**/test/engine/*.bench.ts' --runTestsByPath test/engine/frontDoor.bench.ts
