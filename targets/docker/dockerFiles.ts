/**
 * Writes files into containers and volumes through the Docker daemon, for LiveFiles and
 * VolumeFiles (run by @pulumi/command with one JSON request on stdin, so secret contents
 * never reach a command line, the environment or a file on the deploying machine):
 *   {"action":"push", "container":"<id>", "files":[{path, content, mode, owner}],
 *    "check":["nginx","-t"], "reload":{"signal":"HUP"} | {"exec":[...], "user":"472"}}
 *   {"action":"seed", "volume":"<name>", "image":"<ref>", "files":[{path, content, mode, owner}]}
 * Everything goes through the daemon (docker cp, docker kill --signal), never through a
 * process inside the container: in a container with no-new-privileges and a non-root user,
 * `docker exec -u 0` gets a root without capabilities that can neither write into
 * directories it does not own nor signal PID 1. The docker command lines are built by the
 * pure functions below (tested by equality in test/dockerFiles.test.ts) and run by `main`.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as tar from "tar-stream";
import { LiveReload } from "../../components/platform/service";

export interface RequestFile {
    readonly path: string;
    readonly content: string;
    readonly mode?: string;
    readonly owner?: string;
    readonly group?: string;
}

export type FilesRequest =
    | { readonly action: "push"; readonly container: string; readonly files: readonly RequestFile[]; readonly check?: readonly string[]; readonly reload: LiveReload }
    | { readonly action: "seed"; readonly volume: string; readonly image: string; readonly files: readonly RequestFile[] };

/** Where a seed container mounts the volume it writes into. */
export const seedMount = "/seed";

/** A container of the running one's image and user, never started with a network, that runs `check` once. */
export function checkContainerArgs(image: string, user: string, check: readonly string[]): string[] {
    return ["create", "--network", "none", "--no-healthcheck", "--entrypoint", check[0], ...(user ? ["--user", user] : []), image, ...check.slice(1)];
}

/** A container that only holds the volume, so the daemon can extract files into it. */
export function seedContainerArgs(volume: string, image: string): string[] {
    return ["create", "--network", "none", "--no-healthcheck", "--volume", `${volume}:${seedMount}`, "--entrypoint", "true", image];
}

/** A throwaway container and its anonymous volumes (an image may declare a VOLUME, e.g. Prometheus' /prometheus). */
export function removeArgs(id: string): string[] {
    return ["rm", "--force", "--volumes", id];
}

/** How the process is told to read its files: a signal from the daemon, or a command as the container's own user. */
export function reloadArgs(container: string, reload: LiveReload): string[] {
    if ("signal" in reload) return ["kill", "--signal", reload.signal, container];
    return ["exec", ...(reload.user ? ["--user", reload.user] : []), container, ...reload.exec];
}

/** The request on stdin, checked: a bad request fails before anything is touched. */
export function parseRequest(text: string): FilesRequest {
    const request = JSON.parse(text);
    if (!Array.isArray(request?.files)) throw new Error("stdin must hold {action, files[], …}");
    if (request.action === "push") {
        if (!request.container || !request.reload) throw new Error("push needs container and reload");
    } else if (request.action === "seed") {
        if (!request.volume || !request.image) throw new Error("seed needs volume and image");
    } else {
        throw new Error(`unknown action ${JSON.stringify(request.action)}`);
    }
    return request as FilesRequest;
}

function docker(args: readonly string[], input?: Buffer, allowFailure = false): SpawnSyncReturns<Buffer> {
    const result = spawnSync("docker", args, { input: input ?? Buffer.alloc(0), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    if (result.error) throw new Error(`docker ${args[0]}: ${result.error.message}`);
    if (result.status !== 0 && !allowFailure) {
        throw new Error(`docker ${args.slice(0, 2).join(" ")} failed (${result.status}): ${result.stderr.toString().trim()}`);
    }
    return result;
}

/** One tar with every file, owner and mode in its headers; the daemon extracts it at the destination. */
export function packFiles(files: readonly RequestFile[]): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (chunk: Buffer) => chunks.push(chunk));
    for (const f of files) {
        pack.entry(
            {
                name: f.path.replace(/^\/+/, ""),
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
async function readFile(container: string, filePath: string): Promise<string | undefined> {
    const result = docker(["cp", `${container}:${filePath}`, "-"], undefined, true);
    if (result.status !== 0) return undefined;
    const extract = tar.extract();
    let content: string | undefined;
    extract.on("entry", (header, stream, next) => {
        const parts: Buffer[] = [];
        stream.on("data", (c: Buffer) => parts.push(c));
        stream.on("end", () => {
            if (content === undefined && header.type === "file") content = Buffer.concat(parts).toString("utf8");
            next();
        });
        stream.resume();
    });
    await new Promise<void>((resolve, reject) => {
        extract.on("finish", resolve);
        extract.on("error", reject);
        extract.end(result.stdout);
    });
    return content;
}

/** Runs `check` in a throwaway container of the same image and user, holding the new files. */
async function checkInThrowaway(container: string, files: readonly RequestFile[], check: readonly string[]): Promise<void> {
    const [image, user] = docker(["inspect", "--format", "{{.Image}}\t{{.Config.User}}", container]).stdout.toString().trim().split("\t");
    const id = docker(checkContainerArgs(image, user ?? "", check)).stdout.toString().trim();
    try {
        docker(["cp", "-", `${id}:/`], await packFiles(files));
        const run = docker(["start", "--attach", id], undefined, true);
        if (run.status !== 0) throw new Error(`the new files fail \`${check.join(" ")}\`; nothing was changed:\n${run.stdout}${run.stderr}`);
    } finally {
        docker(removeArgs(id), undefined, true);
    }
}

async function push(request: Extract<FilesRequest, { action: "push" }>): Promise<void> {
    const { container, files, check, reload } = request;
    const changed: RequestFile[] = [];
    for (const f of files) if ((await readFile(container, f.path)) !== f.content) changed.push(f);
    const name = container.slice(0, 12);
    if (changed.length === 0) {
        console.error(`docker-files: ${name} already holds these ${files.length} files; nothing to reload`);
        return;
    }
    if (check && check.length > 0) await checkInThrowaway(container, files, check);
    // One archive, extracted by the daemon before the reload: the process reads the new
    // files only when told to, so it never sees half of them.
    docker(["cp", "-", `${container}:/`], await packFiles(changed));
    console.error(`docker-files: wrote ${changed.map((f) => f.path).join(", ")} in ${name}`);
    docker(reloadArgs(container, reload));
    console.error(`docker-files: reloaded ${name} (${"signal" in reload ? `SIG${reload.signal}` : reload.exec.join(" ")})`);
}

async function seed(request: Extract<FilesRequest, { action: "seed" }>): Promise<void> {
    const id = docker(seedContainerArgs(request.volume, request.image)).stdout.toString().trim();
    try {
        docker(["cp", "-", `${id}:${seedMount}`], await packFiles(request.files));
    } finally {
        docker(removeArgs(id), undefined, true);
    }
    console.error(`docker-files: wrote ${request.files.length} files into volume ${request.volume}`);
}

/** Reads the request on stdin and carries it out; a failure exits 1 with one line saying why. */
export function main(): void {
    const run = async () => {
        const request = parseRequest(fs.readFileSync(0, "utf8"));
        await (request.action === "push" ? push(request) : seed(request));
    };
    run().catch((error: Error) => {
        console.error(`docker-files: ${error.message}`);
        process.exit(1);
    });
}
