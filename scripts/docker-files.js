#!/usr/bin/env node
// The commands of deployed stacks run `node scripts/docker-files.js` (a command's text is part
// of its state: a new path would re-run every one of them once); the code is
// targets/docker/dockerFiles.ts, type-checked by tsc with the rest of the program.
"use strict";
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "tsconfig.json") });
require("../targets/docker/dockerFiles").main();
