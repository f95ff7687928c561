/**
 * test/engine/provider.ts against the real Docker engine: what @pulumi/docker 5.2.0 does
 * with uploads, read-only root filesystems, read-back forms, health waits, network aliases
 * and graceful deletes. Needs a running dockerd (the test command starts it); everything
 * created here carries the label clinicalbdd.test=provider and is removed in afterAll.
 */
import { spawnSync } from "child_process";
import Docker from "dockerode";
import * as fs from "fs";
import * as tar from "tar-stream";
import {
    ContainerInputs,
    createContainer,
    createNetwork,
    createVolume,
    deleteContainer,
    diffContainer,
    formatCpus,
    formatGoDuration,
    parseCpus,
    parseGoDuration,
    ProviderError,
    readContainer,
    readNetwork,
    readVolume,
} from "./provider";

jest.setTimeout(120_000);

const testLabel = { label: "clinicalbdd.test", value: "provider" };
const image = "clinicalbdd-test/bookworm-base:provider";
const docker = new Docker({ socketPath: "/var/run/docker.sock" });
const run = `cbdd-prov-${process.pid}`;
let seq = 0;
const uniqueName = (what: string) => `${run}-${what}-${++seq}`;

/** A container that stays up, labelled for cleanup. */
const base = (extra: Partial<ContainerInputs> = {}): ContainerInputs => ({
    image,
    command: ["sleep", "infinity"],
    labels: [testLabel],
    ...extra,
});

beforeAll(async () => {
    try {
        await docker.ping();
    } catch (err) {
        throw new Error(
            `No Docker daemon answers at /var/run/docker.sock (${(err as Error).message}). ` +
            "The test command must start dockerd first (scripts/docker-engine.sh) before test/engine/provider.test.ts runs.");
    }
    await ensureBaseImage();
}, 600_000);

afterAll(async () => {
    const filters = { label: ["clinicalbdd.test=provider"] };
    for (const c of await docker.listContainers({ all: true, filters })) {
        await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
    for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) {
        await docker.getVolume(v.Name).remove().catch(() => undefined);
    }
    for (const n of await docker.listNetworks({ filters })) {
        await docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
});

describe("Go durations and cpus, as the provider converts them", () => {
    it("parses and formats durations like Go's time package", () => {
        expect(parseGoDuration("60s")).toBe(60_000_000_000n);
        expect(parseGoDuration("1.5h")).toBe(5_400_000_000_000n);
        expect(parseGoDuration("300ms")).toBe(300_000_000n);
        expect(formatGoDuration(60_000_000_000n)).toBe("1m0s");
        expect(formatGoDuration(180_000_000_000n)).toBe("3m0s");
        expect(formatGoDuration(15_000_000_000n)).toBe("15s");
        expect(formatGoDuration(5_400_000_000_000n)).toBe("1h30m0s");
        expect(formatGoDuration(1_500_000_000n)).toBe("1.5s");
        expect(formatGoDuration(300_000_000n)).toBe("300ms");
        expect(formatGoDuration(0n)).toBe("0s");
        expect(() => parseGoDuration("60")).toThrow('time: invalid duration "60"');
    });

    it("turns cpus into NanoCpus exactly and reads it back in the state's form", () => {
        expect(parseCpus("0.50")).toBe(500_000_000);
        expect(parseCpus("2")).toBe(2_000_000_000);
        expect(() => parseCpus("0.0000000001")).toThrow("value is too precise");
        expect(formatCpus(500_000_000)).toBe("0.5");
        expect(formatCpus(2_000_000_000)).toBe("2.0");
    });
});

describe("network and volume", () => {
    it("creates a network and a volume and reads them back", async () => {
        const net = await createNetwork(docker, uniqueName("net"), { labels: [testLabel] });
        const back = await readNetwork(docker, net.id);
        expect(back).toMatchObject({ name: net.name, driver: "bridge", internal: false, labels: [testLabel] });

        const vol = await createVolume(docker, uniqueName("vol"), { labels: [testLabel] });
        expect(vol.id).toBe(vol.name);
        expect(await readVolume(docker, vol.name)).toMatchObject({ name: vol.name, driver: "local", labels: [testLabel] });
    });
});

describe("uploads", () => {
    it("land before start as one tar entry each, with the declared owner, group and mode", async () => {
        const state = await createContainer(docker, uniqueName("upload"), base({
            uploads: [
                { file: "/etc/clinicalbdd/app.conf", content: "answer=42\n", permissions: "0640", owner: "1234", group: "2345" },
                { file: "/usr/local/bin/hello", content: "#!/bin/sh\necho hi\n", executable: true },
                { file: "/etc/clinicalbdd/plain.txt", content: "plain" },
            ],
        }));
        const conf = await archiveEntry(state.id, "/etc/clinicalbdd/app.conf");
        expect(conf).toMatchObject({ uid: 1234, gid: 2345, mode: 0o640, content: "answer=42\n" });
        expect(await archiveEntry(state.id, "/usr/local/bin/hello")).toMatchObject({ uid: 0, gid: 0, mode: 0o744 });
        expect(await archiveEntry(state.id, "/etc/clinicalbdd/plain.txt")).toMatchObject({ mode: 0o644, content: "plain" });
        await deleteContainer(docker, state.id);
    });

    it("resolve owner and group names through this host's user database", async () => {
        const hostUid = (name: string) => Number(fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`))!.split(":")[2]);
        const hostGid = (name: string) => Number(fs.readFileSync("/etc/group", "utf8").split("\n").find((l) => l.startsWith(`${name}:`))!.split(":")[2]);
        const state = await createContainer(docker, uniqueName("named"), base({
            uploads: [{ file: "/srv/owned.txt", content: "x", owner: "nobody", group: "nogroup", permissions: "0400" }],
        }));
        expect(await archiveEntry(state.id, "/srv/owned.txt")).toMatchObject({ uid: hostUid("nobody"), gid: hostGid("nogroup"), mode: 0o400 });
        await deleteContainer(docker, state.id);
    });

    it("are refused on a read-only root filesystem even when the file is on a volume", async () => {
        const vol = await createVolume(docker, uniqueName("rovol"), { labels: [testLabel] });
        const inputs = base({
            readOnly: true,
            volumes: [{ volumeName: vol.name, containerPath: "/data" }],
            uploads: [{ file: "/data/seed.txt", content: "seed" }],
        });
        const err = await createContainer(docker, uniqueName("ro"), inputs).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(ProviderError);
        expect((err as ProviderError).message).toBe(
            "Unable to upload volume content: Error response from daemon: container rootfs is marked read-only");
        // Like the provider, the created container stays behind (Terraform taints it).
        const leftover = (err as ProviderError).containerId!;
        expect((await docker.getContainer(leftover).inspect()).State.Status).toBe("created");
        await deleteContainer(docker, leftover);
    });

    it("are accepted on the same volume when the root filesystem is writable", async () => {
        const vol = await createVolume(docker, uniqueName("rwvol"), { labels: [testLabel] });
        const state = await createContainer(docker, uniqueName("rw"), base({
            readOnly: false,
            volumes: [{ volumeName: vol.name, containerPath: "/data" }],
            uploads: [{ file: "/data/seed.txt", content: "seed" }],
        }));
        expect(await archiveEntry(state.id, "/data/seed.txt")).toMatchObject({ content: "seed" });
        await deleteContainer(docker, state.id);
    });

    it("with empty content fail with the provider's message", async () => {
        const err = await createContainer(docker, uniqueName("empty"), base({ uploads: [{ file: "/etc/empty", content: "" }] }))
            .then(() => undefined, (e: unknown) => e);
        expect((err as Error).message).toBe("error with upload content: one of 'content', 'content_base64', or 'source' must be set");
        await deleteContainer(docker, (err as ProviderError).containerId!);
    });

    it("need the image on the engine", async () => {
        await expect(createContainer(docker, uniqueName("noimage"), base({ image: "clinicalbdd-test/absent:none" })))
            .rejects.toThrow(/^Unable to create container with image clinicalbdd-test\/absent:none: /);
    });
});

describe("read-back and diff", () => {
    const declared = (over: Partial<ContainerInputs> = {}): ContainerInputs => base({
        envs: ["B=2", "A=1"],
        memory: 64,
        memorySwap: 64,
        cpus: "0.50",
        healthcheck: { tests: ["CMD", "true"], interval: "60s", timeout: "5s", retries: 3, startPeriod: "10s" },
        restart: "unless-stopped",
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        securityOpts: ["no-new-privileges:true"],
        user: "1000:1000",
        tmpfs: { "/run/app": "rw,size=1m,mode=1777" },
        stopTimeout: 7,
        destroyGraceSeconds: 7,
        labels: [testLabel, { label: "clinicalbdd.service", value: "probe" }],
        ...over,
    });
    let state: Awaited<ReturnType<typeof createContainer>>;

    beforeAll(async () => {
        state = await createContainer(docker, uniqueName("read"), declared());
        process.stdout.write(`provider read-back state: ${JSON.stringify({ ...state, engine: undefined })}\n` +
            `engine-only (not in the state): ${JSON.stringify(state.engine)}\n`);
    });
    afterAll(async () => {
        if (state) await deleteContainer(docker, state.id, { destroyGraceSeconds: 1 });
    });

    it("reads back the forms the provider stores", () => {
        expect(state.cpus).toBe("0.5");
        expect(state.memory).toBe(64);
        expect(state.healthcheck).toEqual({
            tests: ["CMD", "true"], interval: "1m0s", timeout: "5s", startPeriod: "10s", startInterval: "0s", retries: 3,
        });
        expect(state.restart).toBe("unless-stopped");
        expect(state.logDriver).toBe("json-file");
        expect(state.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
        expect(state.securityOpts).toEqual(["no-new-privileges:true"]);
        expect(state.tmpfs).toEqual({ "/run/app": "rw,size=1m,mode=1777" });
        expect(state.user).toBe("1000:1000");
        expect(state.stopTimeout).toBe(7);
        expect(state.readOnly).toBe(false);
        expect(state.init).toBe(false);
        expect(state.image).toMatch(/^sha256:/);
        // Not read back: the state keeps what was declared; the engine adds the image's env.
        expect(state.envs).toEqual(["B=2", "A=1"]);
        expect(state.engine.envs).toEqual(expect.arrayContaining(["A=1", "B=2"]));
        expect(state.engine.labels).toEqual({ "clinicalbdd.test": "provider", "clinicalbdd.service": "probe" });
    });

    it("shows no diff when the program declares the read-back forms", async () => {
        const same = declared({ cpus: "0.5", healthcheck: { tests: ["CMD", "true"], interval: "1m0s", timeout: "5s", retries: 3, startPeriod: "10s" } });
        expect(await diffContainer(same, state, docker)).toEqual([]);
    });

    it("diffs cpus \"0.50\" (a replacement) and healthcheck \"60s\" against what the engine read back", async () => {
        const diffs = await diffContainer(declared(), state, docker);
        expect(diffs.map((d) => d.text).sort()).toEqual([
            'cpus: declared "0.50", engine "0.5"',
            expect.stringMatching(/^healthcheck: declared .*"interval":"60s".*, engine .*"interval":"1m0s"/),
        ]);
        expect(diffs.find((d) => d.field === "cpus")?.forcesReplacement).toBe(true);
        expect(diffs.find((d) => d.field === "healthcheck")?.forcesReplacement).toBe(false);
    });

    it("ignores inputs the program leaves unset when they are Computed, and knows ForceNew fields", async () => {
        const changed = declared({ cpus: "0.5", healthcheck: undefined, logDriver: undefined, envs: ["A=1", "B=3"], memory: 128 });
        const diffs = await diffContainer(changed, state, docker);
        expect(diffs.map((d) => [d.field, d.forcesReplacement])).toEqual([["envs", true], ["memory", false]]);
    });
});

describe("ports", () => {
    it("publish on 0.0.0.0 by default and read back without a diff when the external port was left to the engine", async () => {
        const inputs = base({ ports: [{ internal: 8080 }] });
        const state = await createContainer(docker, uniqueName("ports"), inputs);
        expect(state.ports).toEqual([{ internal: 8080, external: expect.any(Number), ip: "0.0.0.0", protocol: "tcp" }]);
        expect(state.ports![0].external).toBeGreaterThan(0);
        expect(await diffContainer(inputs, state, docker)).toEqual([]);
        const moved = await diffContainer(base({ ports: [{ internal: 8080, ip: "127.0.0.1" }] }), state, docker);
        expect(moved.map((d) => [d.field, d.forcesReplacement])).toEqual([["ports", true]]);
        await deleteContainer(docker, state.id);
    });
});

describe("post-start checks", () => {
    it("wait=true fails within waitTimeout on an unhealthy container, naming the health output", async () => {
        const started = Date.now();
        const err = await createContainer(docker, uniqueName("sick"), base({
            healthcheck: { tests: ["CMD-SHELL", "echo database-not-ready >&2; exit 1"], interval: "1s", timeout: "1s", retries: 1 },
            wait: true,
            waitTimeout: 4,
        })).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(ProviderError);
        expect((err as Error).message).toMatch(/^timeout while waiting for container to become healthy; .*database-not-ready/);
        expect(Date.now() - started).toBeLessThan(15_000);
        await deleteContainer(docker, (err as ProviderError).containerId!);
    });

    it("wait=true returns once the container is healthy", async () => {
        const state = await createContainer(docker, uniqueName("well"), base({
            healthcheck: { tests: ["CMD", "true"], interval: "1s", retries: 1 },
            wait: true,
            waitTimeout: 20,
        }));
        expect(state.engine.health).toBe("healthy");
        await deleteContainer(docker, state.id);
    });

    it("must_run (default true): a container that exits at once is deleted and the create fails", async () => {
        const name = uniqueName("exits");
        await expect(createContainer(docker, name, base({ command: ["true"] }))).rejects.toThrow("container exited immediately");
        expect(await docker.listContainers({ all: true, filters: { name: [name] } })).toEqual([]);
    });

    it("must_run on a later read: a container stopped behind the provider's back is deleted and leaves the state", async () => {
        const inputs = base();
        const state = await createContainer(docker, uniqueName("stopped"), inputs);
        await docker.getContainer(state.id).stop({ t: 1 });
        expect(await readContainer(docker, state.id, inputs)).toBeNull();
        await expect(docker.getContainer(state.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    });

    it("must_run=false keeps an exited container and records its exit code", async () => {
        const state = await createContainer(docker, uniqueName("oneshot"), base({ command: ["sh", "-c", "exit 3"], mustRun: false }));
        expect(state.exitCode).toBe(3);
        await deleteContainer(docker, state.id);
    });
});

describe("networks_advanced", () => {
    it("connects with aliases that another container on the network resolves", async () => {
        const net = await createNetwork(docker, uniqueName("alias-net"), { labels: [testLabel] });
        const server = await createContainer(docker, uniqueName("server"), base({
            networksAdvanced: [{ name: net.name, aliases: ["svc-alpha", "svc-alpha"] }],
        }));
        expect(Object.keys(server.engine.networkAliases)).toEqual([net.name]);
        // Engine 20.10 adds the container's short ID to the declared aliases (and dedupes them);
        // the provider does not read aliases back, so this never diffs.
        expect([...server.engine.networkAliases[net.name]].sort()).toEqual(["svc-alpha", server.id.slice(0, 12)].sort());

        const probe = await createContainer(docker, uniqueName("probe"), base({
            command: ["getent", "hosts", "svc-alpha"],
            networksAdvanced: [{ name: net.name }],
            attach: true,
            logs: true,
            mustRun: false,
        }));
        const serverIp = (await docker.getContainer(server.id).inspect()).NetworkSettings.Networks[net.name].IPAddress;
        expect(probe.exitCode).toBe(0);
        expect(probe.containerLogs).toContain(serverIp);
        expect(probe.containerLogs).toContain("svc-alpha");
        await deleteContainer(docker, probe.id);
        await deleteContainer(docker, server.id);
    });
});

describe("delete", () => {
    const trapTerm = (marker: string) => ["bash", "-c", `trap 'echo ${marker} > /data/signal; exit 0' TERM; while :; do sleep 0.1; done`];

    it("with destroyGraceSeconds stops (SIGTERM) before removing; without it the container is killed", async () => {
        const vol = await createVolume(docker, uniqueName("sigvol"), { labels: [testLabel] });
        const volumes = [{ volumeName: vol.name, containerPath: "/data" }];

        const graceful = await createContainer(docker, uniqueName("graceful"), base({ command: trapTerm("got-TERM"), volumes, destroyGraceSeconds: 5 }));
        const t0 = Date.now();
        await deleteContainer(docker, graceful.id, { destroyGraceSeconds: 5 });
        expect(Date.now() - t0).toBeLessThan(5_000);
        expect(await readFromVolume(vol.name, "/data/signal")).toBe("got-TERM\n");

        const killed = await createContainer(docker, uniqueName("killed"), base({ command: trapTerm("second-TERM"), volumes }));
        await deleteContainer(docker, killed.id);
        expect(await readFromVolume(vol.name, "/data/signal")).toBe("got-TERM\n");
        await expect(docker.getContainer(killed.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    });
});

// ---------------------------------------------------------------------------------------

/** The base image: a debootstrap'd Debian bookworm imported as clinicalbdd-test/bookworm-base:provider (cached). */
async function ensureBaseImage(): Promise<void> {
    try {
        await docker.getImage(image).inspect();
        return;
    } catch {
        // build it below
    }
    const dir = fs.mkdtempSync("/tmp/provider-rootfs-");
    try {
        const boot = spawnSync("debootstrap", ["--variant=minbase", "bookworm", dir, "http://deb.debian.org/debian"], { encoding: "utf8", timeout: 540_000 });
        if (boot.status !== 0) throw new Error(`debootstrap failed (${boot.error?.message ?? boot.status}): ${boot.stderr.slice(-2000)}`);
        const imp = spawnSync("bash", ["-c", `tar -C '${dir}' -c . | docker import - ${image}`], { encoding: "utf8", timeout: 120_000 });
        if (imp.status !== 0) throw new Error(`docker import failed: ${imp.stderr}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** One file of a container through the archive API: its tar header and content. */
async function archiveEntry(containerId: string, path: string): Promise<{ uid: number; gid: number; mode: number; content: string }> {
    const stream = await docker.getContainer(containerId).getArchive({ path });
    const extract = tar.extract();
    return new Promise((resolve, reject) => {
        let found: { uid: number; gid: number; mode: number; content: string } | undefined;
        extract.on("entry", (header, body, next) => {
            const chunks: Buffer[] = [];
            body.on("data", (c: Buffer) => chunks.push(c));
            body.on("end", () => {
                found ??= { uid: header.uid ?? -1, gid: header.gid ?? -1, mode: (header.mode ?? 0) & 0o7777, content: Buffer.concat(chunks).toString("utf8") };
                next();
            });
        });
        extract.on("finish", () => (found ? resolve(found) : reject(new Error(`no entry for ${path}`))));
        extract.on("error", reject);
        stream.pipe(extract);
    });
}

/** Reads a file on a volume through a throwaway container (mounted read-only). */
async function readFromVolume(volumeName: string, path: string): Promise<string> {
    const probe = await createContainer(docker, uniqueName("reader"), base({
        command: ["sleep", "infinity"],
        volumes: [{ volumeName, containerPath: "/data", readOnly: true }],
    }));
    try {
        return (await archiveEntry(probe.id, path)).content;
    } finally {
        await deleteContainer(docker, probe.id);
    }
}
