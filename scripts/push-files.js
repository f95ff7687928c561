#!/usr/bin/env node
// Pushes files into a running container and reloads its process, without a restart.
// Called by components/liveFiles.ts through @pulumi/command. Reads one JSON document on
// stdin (so secret file contents never appear in a command line or the environment):
//   { "container": "<id>", "files": [{ "path", "content", "mode", "owner" }],
//     "check": ["nginx", "-t"], "reload": ["nginx", "-s", "reload"], "reloadUser": "0" }
"use strict";
const { execFileSync } = require("child_process");

function dockerExec(container, args, input, user = "0") {
    execFileSync("docker", ["exec", "-i", "-u", user, container, ...args], {
        input: input ?? "",
        stdio: ["pipe", "inherit", "inherit"],
        timeout: 60_000,
    });
}

function main() {
    const request = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const { container, files, check, reload, reloadUser } = request;
    if (!container || !Array.isArray(files) || !Array.isArray(reload)) {
        throw new Error("push-files: stdin must hold {container, files[], reload[]}");
    }
    for (const file of files) {
        // Write beside the target, then rename: the process never reads a half-written file.
        const script = 'set -e; mkdir -p "$(dirname "$1")"; cat > "$1.new"; chmod "$2" "$1.new"; ' +
            'if [ -n "$3" ]; then chown "$3" "$1.new"; fi; mv "$1.new" "$1"';
        dockerExec(container, ["sh", "-c", script, "push-files", file.path, file.mode ?? "0444", file.owner ?? ""], file.content);
        console.error(`push-files: wrote ${file.path} in ${container.slice(0, 12)}`);
    }
    if (Array.isArray(check) && check.length > 0) dockerExec(container, check, "", reloadUser);
    dockerExec(container, reload, "", reloadUser);
    console.error(`push-files: reloaded ${container.slice(0, 12)} with: ${reload.join(" ")}`);
}

try {
    main();
} catch (error) {
    console.error(`push-files: ${error.message}`);
    process.exit(1);
}
