#!/usr/bin/env node
// Writes files into containers and volumes through the Docker daemon. Called by
// targets/docker/liveFiles.ts and targets/docker/volumeFiles.ts through @pulumi/command, with one
// JSON request on stdin, so secret contents never reach a command line, the environment
// or a file on the deploying machine:
//   {"action":"push", "container":"<id>", "files":[{path, content, mode, owner, group}],
//    "check":["nginx","-t"], "reload":{"signal":"HUP"} | {"exec":[...], "user":"472"}}
//   {"action":"seed", "volume":"<name>", "image":"<ref>", "files":[{path, content, mode, owner, group}]}
// Everything goes through the daemon (docker cp, docker kill --signal), never through a
// process inside the container: in a container with no-new-privileges and a non-root
// user, `docker exec -u 0` gets a root without capabilities that can neither write into
// directories it does not own nor signal PID 1.
"use strict";
const { spawnSync } = require("child_process");
const tar = require("tar-stream");

function docker(args, input, { allowFailure = false } = {}) {
    const result = spawnSync("docker", args, { input: input ?? Buffer.alloc(0), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    if (result.error) throw new Error(`docker ${args[0]}: ${result.error.message}`);
    if (result.status !== 0 && !allowFailure) {
        throw new Error(`docker ${args.slice(0, 2).join(" ")} failed (${result.status}): ${result.stderr.toString().trim()}`);
    }
    return result;
}

/** One tar with every file, owner and mode in its headers; the daemon extracts it at the destination. */
function packFiles(files, stripPrefix = "") {
    const pack = tar.pack();
    const chunks = [];
    pack.on("data", (chunk) => chunks.push(chunk));
    for (const f of files) {
        pack.entry(
            {
                name: f.path.slice(stripPrefix.length).replace(/^\/+/, ""),
                mode: parseInt(f.mode ?? "0444", 8),
                uid: Number(f.owner ?? 0),
                gid: Number(f.group ?? f.owner ?? 0),
                mtime: new Date(0),
            },
            Buffer.from(f.content, "utf8"),
        );
    }
    pack.finalize();
    return new Promise((resolve, reject) => {
        pack.on("end", () => resolve(Buffer.concat(chunks)));
        pack.on("error", reject);
    });
}

/** The file's current content in the container, or undefined when it is not there. */
async function readFile(container, filePath) {
    const result = docker(["cp", `${container}:${filePath}`, "-"], undefined, { allowFailure: true });
    if (result.status !== 0) return undefined;
    const extract = tar.extract();
    let content;
    extract.on("entry", (header, stream, next) => {
        const parts = [];
        stream.on("data", (c) => parts.push(c));
        stream.on("end", () => {
            if (content === undefined && header.type === "file") content = Buffer.concat(parts).toString("utf8");
            next();
        });
        stream.resume();
    });
    await new Promise((resolve, reject) => {
        extract.on("finish", resolve);
        extract.on("error", reject);
        extract.end(result.stdout);
    });
    return content;
}

/** Runs `check` in a throwaway container of the same image and user, holding the new files. */
async function checkInThrowaway(container, files, check) {
    const [image, user] = docker(["inspect", "--format", "{{.Image}}\t{{.Config.User}}", container]).stdout.toString().trim().split("\t");
    const args = ["create", "--network", "none", "--no-healthcheck", "--entrypoint", check[0]];
    if (user) args.push("--user", user);
    const id = docker([...args, image, ...check.slice(1)]).stdout.toString().trim();
    try {
        docker(["cp", "-", `${id}:/`], await packFiles(files));
        const run = docker(["start", "--attach", id], undefined, { allowFailure: true });
        if (run.status !== 0) {
            throw new Error(`the new files fail \`${check.join(" ")}\`; nothing was changed:\n${run.stdout}${run.stderr}`);
        }
    } finally {
        // --volumes: the image may declare a VOLUME (Prometheus' /prometheus), which would outlive it.
        docker(["rm", "--force", "--volumes", id], undefined, { allowFailure: true });
    }
}

async function push({ container, files, check, reload }) {
    const changed = [];
    for (const f of files) if ((await readFile(container, f.path)) !== f.content) changed.push(f);
    const name = container.slice(0, 12);
    if (changed.length === 0) {
        console.error(`docker-files: ${name} already holds these ${files.length} files; nothing to reload`);
        return;
    }
    if (Array.isArray(check) && check.length > 0) await checkInThrowaway(container, files, check);
    // One archive, extracted by the daemon before the reload: the process reads the new
    // files only when told to, so it never sees half of them.
    docker(["cp", "-", `${container}:/`], await packFiles(changed));
    console.error(`docker-files: wrote ${changed.map((f) => f.path).join(", ")} in ${name}`);
    if (reload.signal) {
        docker(["kill", "--signal", reload.signal, container]);
    } else {
        docker(["exec", ...(reload.user ? ["--user", reload.user] : []), container, ...reload.exec]);
    }
    console.error(`docker-files: reloaded ${name} (${reload.signal ? `SIG${reload.signal}` : reload.exec.join(" ")})`);
}

async function seed({ volume, image, files }) {
    const mount = "/seed";
    const id = docker(["create", "--network", "none", "--no-healthcheck", "--volume", `${volume}:${mount}`, "--entrypoint", "true", image])
        .stdout.toString().trim();
    try {
        docker(["cp", "-", `${id}:${mount}`], await packFiles(files));
    } finally {
        docker(["rm", "--force", id], undefined, { allowFailure: true });
    }
    console.error(`docker-files: wrote ${files.length} files into volume ${volume}`);
}

async function main() {
    const request = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (!Array.isArray(request.files)) throw new Error("stdin must hold {action, files[], …}");
    if (request.action === "push") {
        if (!request.container || !request.reload) throw new Error("push needs container and reload");
        await push(request);
    } else if (request.action === "seed") {
        if (!request.volume || !request.image) throw new Error("seed needs volume and image");
        await seed(request);
    } else {
        throw new Error(`unknown action ${JSON.stringify(request.action)}`);
    }
}

main().catch((error) => {
    console.error(`docker-files: ${error.message}`);
    process.exit(1);
});
