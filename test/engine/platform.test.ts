/**
 * The whole program on a real Docker engine: every docker resource it declares (replicas 2)
 * is created as @pulumi/docker 5.2.0 creates it (provider.ts), in dependency order, with
 * every LiveFiles/VolumeFiles command run as @pulumi/command runs it; then healthUrl through
 * nginx, the read-back of every container against what was declared (a field that differs
 * would diff on the next `pulumi up`), a second `up` that must change nothing (the first
 * deploys the program as it was before the layout move, the second this checkout's), and the
 * replacements and pushes that config changes cause, under steady load, counting failed
 * requests. The images are built offline by test/engine/build-images.sh: imitations are
 * labelled and listed at the start.
 */
import { execFileSync } from "child_process";
import * as http from "http";
import { LoadReport, SteadyLoad, steadyMix } from "./load";
import { baselineCommit, baselineProgramDir } from "../helpers/baselineProgram";
import { ProgramRun } from "../helpers/pulumiProgram";
import { CONTAINER, Deployment, Step } from "./deployment";
import { expectNoFailures, get, normalise, servedCertificate, sleep } from "./probes";
import * as provider from "./provider";
import { testDeployment, TestPorts } from "./testStack";

jest.setTimeout(20 * 60_000);

const stack = `engine${process.pid}`;
let deployment: Deployment;
let httpsPort: number;
let httpPort: number;
let firstUp: { steps: Step[]; seconds: number };
let grafanaPort: number;
/** The stack's config as the tests change it, one `pulumi config set` after another. */
const config: Record<string, string> = {};
const figures: string[] = [];

beforeAll(async () => {
    await assertDaemon();
    reportImitations();
    let ports: TestPorts;
    ({ deployment, ports } = await testDeployment(stack));
    httpPort = ports.http;
    httpsPort = ports.https;
    grafanaPort = ports.grafana;
    // The stack as the program before the layout move deployed it; the second `up` is this checkout's.
    const run = await deployment.program({}, baselineProgramDir());
    const started = Date.now();
    const steps = await deployment.up(run);
    firstUp = { steps, seconds: (Date.now() - started) / 1000 };
    figures.push(`first pulumi up, nothing to all healthy: ${firstUp.seconds.toFixed(1)} s (${steps.filter((s) => s.action === "create").length} resources created)`);
});

afterAll(async () => {
    console.log(`real-engine figures (stack ${stack}):\n  ${figures.join("\n  ")}`);
    await deployment?.destroy();
});

describe("the first pulumi up on a real engine", () => {
    test("creates every container of the program, each running and turning healthy", async () => {
        const declared = (deployment.current as ProgramRun).byType(CONTAINER).map((r) => r.name).sort();
        expect(deployment.containers().map((c) => c.name).sort()).toEqual(declared);
        // Containers the program does not wait for (exporters) get a minute to pass their first
        // checks; the backup job turns healthy only after its first run, minutes later.
        const deadline = Date.now() + 60_000;
        for (const c of deployment.containers()) {
            let state = (await deployment.docker.getContainer(c.id).inspect()).State;
            while (state.Health?.Status === "starting" && c.name !== "backups-job" && Date.now() < deadline) {
                await sleep(1000);
                state = (await deployment.docker.getContainer(c.id).inspect()).State;
            }
            expect({ container: c.name, running: state.Running, health: state.Health?.Status }).toEqual({
                container: c.name,
                running: true,
                health: c.name === "backups-job" ? expect.stringMatching(/starting|healthy/) : "healthy",
            });
        }
    });

    test("healthUrl answers the app's own health JSON through nginx over TLS, and http redirects to https", async () => {
        const health = await get(`https://127.0.0.1:${httpsPort}/health`);
        expect(health.status).toBe(200);
        expect(JSON.parse(health.body)).toMatchObject({ status: "ok" });
        const redirect = execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `http://127.0.0.1:${httpPort}/health`], { encoding: "utf8" });
        expect(redirect).toMatch(/^301 https:\/\//);
    });

    test("every pushed config was already in place at creation: nothing written, nothing reloaded", () => {
        const pushes = deployment.commandLog.filter((line) => line.includes("-push:"));
        expect(pushes.length).toBeGreaterThanOrEqual(5);
        for (const line of pushes) expect(line).toMatch(/already holds these \d+ files; nothing to reload/);
    });

    test("every container reads back exactly as declared, so the next pulumi up has nothing to change", async () => {
        const problems: string[] = [];
        for (const c of deployment.containers()) {
            const state = await provider.readContainer(deployment.docker, c.id, c.resource.inputs as provider.ContainerInputs);
            if (!state) {
                problems.push(`${c.name}: gone on read`);
                continue;
            }
            const ignored = new Set(c.resource.opts.ignoreChanges ?? []);
            for (const diff of await provider.diffContainer(c.resource.inputs as provider.ContainerInputs, state, deployment.docker)) {
                if (!ignored.has(diff.field)) problems.push(`${c.name}: ${diff.text}${diff.forcesReplacement ? " (replaces)" : ""}`);
            }
        }
        expect(problems).toEqual([]);
    });

    test(`a second pulumi up, of this checkout's program on the stack ${baselineCommit}'s deployed (before the layout move), plans and does nothing`, async () => {
        const steps = await deployment.up(await deployment.program());
        expect(steps).toEqual([]);
    });
});

describe("config changes under steady load, in the order the engine runs them", () => {
    /** Applies a config change with 8 clients sending health checks and analyses through nginx. */
    const underLoad = async (label: string, change: Record<string, string>): Promise<{ steps: Step[]; report: LoadReport }> => {
        Object.assign(config, change);
        const next = await deployment.program(config);
        // Trust the certificate before and after the change: a rotation hands out the new one.
        const ca = [currentCertificate(deployment.current as ProgramRun), currentCertificate(next)].join("\n");
        const client = { baseUrl: `https://127.0.0.1:${httpsPort}`, ca, servername: "localhost", requests: steadyMix };
        const load = new SteadyLoad({ ...client, concurrency: 8 }).start();
        // Beside it, clients on HTTP/1.1 keep-alive connections: what a reload costs them is
        // reported (docs/front-door-reloads.md), not held to zero.
        const http1 = new SteadyLoad({ ...client, concurrency: 2, protocol: "http/1.1" }).start();
        await sleep(1500);
        const started = Date.now();
        const steps = await deployment.up(next);
        const seconds = (Date.now() - started) / 1000;
        await sleep(3000);
        const [report, http1Report] = await Promise.all([load.stop(), http1.stop()]);
        figures.push(
            `${label}: HTTP/2 ${report.ok} ok, ${report.failed} failed, ${report.refusedUnprocessed} refused unprocessed and sent again; ` +
                `HTTP/1.1 ${http1Report.ok} ok, ${http1Report.failed} failed${http1Report.failures.length ? ` (${http1Report.failures.slice(0, 2).join("; ")})` : ""}; ` +
                `up took ${seconds.toFixed(1)} s: ` +
                steps.map((s) => `${s.action} ${s.resource}`).join(", "),
        );
        return { steps, report };
    };
    const names = (steps: Step[], action: string) => steps.filter((s) => s.action === action).map((s) => s.resource).sort();

    test("replicas 2 → 3 adds one replica and pushes the replica alert's threshold into Prometheus: 0 failed requests, no volume left behind", async () => {
        const started = new Date();
        const { steps, report } = await underLoad("replicas 2 → 3", { replicas: "3" });
        expect(names(steps, "create")).toEqual(["app-replica-2"]);
        expect(names(steps, "run")).toEqual(["metrics-config-push"]);
        expect(names(steps, "replace")).toEqual([]);
        expectNoFailures(report);
        // promtool ran in a throwaway Prometheus container, whose image declares VOLUME /prometheus.
        expect(anonymousVolumesCreatedSince(started)).toEqual([]);
    });

    test("replicas 3 → 2 removes the last replica gracefully: 0 failed requests", async () => {
        const { steps, report } = await underLoad("replicas 3 → 2", { replicas: "2" });
        expect(names(steps, "delete")).toEqual(["app-replica-2"]);
        expect(names(steps, "replace")).toEqual([]);
        expectNoFailures(report);
    });

    test("tlsRotation 0 → 1 reloads nginx with the new certificate without replacing it: 0 failed requests", async () => {
        const before = deployment.containerName("front-door-nginx");
        const { steps, report } = await underLoad("tlsRotation 0 → 1", { tlsRotation: "1" });
        expect(names(steps, "run")).toEqual(["front-door-config-push"]);
        expect(deployment.containerName("front-door-nginx")).toBe(before);
        const served = servedCertificate(httpsPort);
        expect(served).toBe(normalise(currentCertificate(deployment.current as ProgramRun)));
        expectNoFailures(report);
    });

    test("a new nginx.conf (maxBodyMb 2 → 10) reloads nginx and rolls the replicas one at a time, new before old: 0 failed requests", async () => {
        const before = deployment.containerName("front-door-nginx");
        const { steps, report } = await underLoad("maxBodyMb 2 → 10 (nginx.conf + app env)", { maxBodyMb: "10" });
        expect(names(steps, "replace")).toEqual(["app-replica-0", "app-replica-1"]);
        expect(names(steps, "run")).toContain("front-door-config-push");
        expect(deployment.containerName("front-door-nginx")).toBe(before);
        const conf = execFileSync("docker", ["exec", before, "cat", "/etc/nginx/nginx.conf"], { encoding: "utf8" });
        expect(conf).toMatch(/client_max_body_size 10m;/);
        expectNoFailures(report);
    });

    test("a rotated Grafana password is set in the running Grafana (grafana cli as its own uid), not by a restart", async () => {
        const before = deployment.containerName("dashboards-grafana");
        const oldPassword = (deployment.current as ProgramRun).outputs.grafanaAdminPassword.value as string;
        Object.assign(config, { grafanaPasswordRotation: "1" });
        const next = await deployment.program(config);
        const steps = await deployment.up(next);
        const newPassword = next.outputs.grafanaAdminPassword.value as string;
        expect(newPassword).not.toBe(oldPassword);
        expect(names(steps, "run")).toEqual(["dashboards-files-push"]);
        expect(deployment.containerName("dashboards-grafana")).toBe(before);
        expect(await grafanaLogin(grafanaPort, newPassword)).toBe(200);
        expect(await grafanaLogin(grafanaPort, oldPassword)).toBe(401);
    });

    test("a run that fails part way (the new nginx image cannot be pulled) leaves the front door and every replica serving", async () => {
        const nginx = deployment.containerName("front-door-nginx");
        const replicas = ["app-replica-0", "app-replica-1"].map((r) => deployment.containerName(r));
        const next = await deployment.program({ ...config, nginxImage: "nginx:1.99.0-alpine" });
        const load = new SteadyLoad({ baseUrl: `https://127.0.0.1:${httpsPort}`, ca: currentCertificate(next), servername: "localhost", concurrency: 8, requests: steadyMix }).start();
        await sleep(1000);
        await expect(deployment.up(next)).rejects.toThrow(/front-door-nginx-image: image nginx:1\.99\.0-alpine is not on the engine/);
        await sleep(2000);
        const report = await load.stop();
        figures.push(`failed up (nginx image not pullable): ${report.ok} ok, ${report.failed} failed`);
        expect(deployment.containerName("front-door-nginx")).toBe(nginx);
        expect(["app-replica-0", "app-replica-1"].map((r) => deployment.containerName(r))).toEqual(replicas);
        expectNoFailures(report);
        // The state still describes what runs: the same config again plans nothing.
        expect(await deployment.up(await deployment.program(config))).toEqual([]);
    });
});

/** The status of Grafana's GET /api/user as admin with `password`, on its host port. */
function grafanaLogin(port: number, password: string): Promise<number> {
    return new Promise((resolve, reject) => {
        http.get(`http://127.0.0.1:${port}/api/user`, { auth: `admin:${password}` }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        }).on("error", reject);
    });
}

async function assertDaemon(): Promise<void> {
    try {
        execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe" });
    } catch {
        throw new Error("no Docker daemon answers: the test command starts one (scripts/docker-engine.sh) and builds the images (test/engine/build-images.sh)");
    }
}

/** Which images are imitations and what they lack, from their labels (test/engine/build-images.sh sets them). */
function reportImitations(): void {
    // Images built on an imitation base inherit its labels; the program's own (app, backup) are left out.
    const ids = execFileSync("docker", ["images", "--quiet", "--filter", "label=org.clinicalbdd.imitation=true"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
    const lines = ids.length === 0 ? [] : execFileSync("docker", ["image", "inspect", "--format", '{{join .RepoTags ", "}}: {{index .Config.Labels "org.clinicalbdd.lacks"}}', ...new Set(ids)], { encoding: "utf8" })
        .trim()
        .split("\n")
        .filter((line) => /^(?!clinical-bdd-creator-)\S+:\S+/.test(line));
    console.log(`images that imitate the pinned ones (built from Debian bookworm; no registry here):\n  ${lines.join("\n  ")}`);
}

/** The certificate the program hands nginx, as it appears in the front door's push request. */
function currentCertificate(run: ProgramRun): string {
    const request = JSON.parse(run.one("command:local:Command", "front-door-config-push").inputs.stdin);
    return request.files.find((f: { path: string }) => f.path.endsWith("cert.pem")).content;
}

/** Anonymous volumes (64 hex digits, no name) created since `since` that no container holds. */
function anonymousVolumesCreatedSince(since: Date): string[] {
    const dangling = execFileSync("docker", ["volume", "ls", "--quiet", "--filter", "dangling=true"], { encoding: "utf8" }).split("\n").filter((v) => /^[0-9a-f]{64}$/.test(v));
    return dangling.filter((v) => new Date(execFileSync("docker", ["volume", "inspect", "--format", "{{.CreatedAt}}", v], { encoding: "utf8" }).trim()) >= since);
}
