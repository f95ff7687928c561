/**
 * The Swarm target on a real single-node Swarm (`docker swarm init` of the test command's own
 * engine when it is not in one already): every service, secret and config the program declares
 * with `platform: swarm` is created through the Engine API as @pulumi/docker creates them
 * (test/engine/swarmProvider.ts), in dependency order, waiting for convergence; then healthUrl
 * through nginx, the read-back of every service against what was sent, a second `up` that
 * changes nothing, and scale, certificate rotation and a new nginx.conf under steady load,
 * counting failed requests. This engine has no IPVS (no routing mesh), so the edge proxy
 * publishes in host mode (the target's default) and the front-door nginx rolls behind it.
 */
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { convergeCommand } from "../targets/swarm/convergence";
import { LoadReport, SteadyLoad, steadyMix } from "./engine/load";
import { ProgramRun } from "./helpers/pulumiProgram";
import { Deployment, SERVICE, Step } from "./engine/deployment";
import { expectNoFailures, get, normalise, servedCertificate, sleep } from "./engine/probes";
import { joinTestSwarm, swarmCertificate, SwarmNode, swarmTestDeployment } from "./engine/swarmNode";
import * as swarm from "./engine/swarmProvider";

jest.setTimeout(20 * 60_000);

const stack = `swarm${process.pid}`;
let deployment: Deployment;
let httpsPort: number;
let node: SwarmNode | undefined;
const figures: string[] = [];
const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).trim();

beforeAll(async () => {
    node = joinTestSwarm(stack);
    ({ deployment, httpsPort } = await swarmTestDeployment(stack));
    const started = Date.now();
    const steps = await deployment.up(await deployment.program());
    figures.push(`first pulumi up, nothing to converged: ${((Date.now() - started) / 1000).toFixed(1)} s (${steps.filter((s) => s.action === "create").length} resources created)`);
});

afterAll(async () => {
    console.log(`Swarm real-engine figures (stack ${stack}):\n  ${figures.join("\n  ")}`);
    await deployment?.destroy();
    node?.release(stack);
});

describe("the first pulumi up on a real Swarm", () => {
    test("every service converges: each task running (global services too, which the provider does not wait for)", async () => {
        const declared = (deployment.current as ProgramRun).byType(SERVICE).map((r) => r.name).sort();
        expect(deployment.services().map((s) => s.name).sort()).toEqual(declared);
        const deadline = Date.now() + 120_000;
        let pending: string[] = [];
        do {
            pending = [];
            for (const s of deployment.services()) {
                const want = s.sent.mode.global ? 1 : s.sent.mode.replicated.replicas;
                const running = docker("service", "ps", s.sent.name, "--filter", "desired-state=running", "--format", "{{.CurrentState}}").split("\n").filter((l) => l.startsWith("Running")).length;
                if (running !== want) pending.push(`${s.name}: ${running}/${want}`);
            }
            if (pending.length > 0) await sleep(2000);
        } while (pending.length > 0 && Date.now() < deadline);
        expect(pending).toEqual([]);
    });

    test("healthUrl answers the app's health JSON through nginx over TLS", async () => {
        const health = await get(`https://127.0.0.1:${httpsPort}/health`);
        expect(health.status).toBe(200);
        expect(JSON.parse(health.body)).toMatchObject({ status: "ok" });
    });

    test("through the edge proxy, nginx logs the client's address (PROXY protocol), not the edge's", async () => {
        const marker = `/edge-check-${process.pid}-${Date.now()}`;
        expect((await get(`https://127.0.0.1:${httpsPort}${marker}`)).status).toBe(404);
        const edgeAddresses = docker("ps", "--filter", `label=com.docker.swarm.service.name=${stack}-front-door-edge`, "--format", "{{.ID}}")
            .split("\n")
            .filter(Boolean)
            .flatMap((id) => docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", id).split(" ").filter(Boolean));
        expect(edgeAddresses.length).toBeGreaterThan(0);
        let logged: { remote_addr: string } | undefined;
        for (let i = 0; i < 10 && !logged; i++) {
            const line = docker("service", "logs", "--raw", `${stack}-front-door-nginx`).split("\n").find((l) => l.includes(marker));
            logged = line ? JSON.parse(line.slice(line.indexOf("{"))) : undefined;
            if (!logged) await sleep(1000);
        }
        expect(logged?.remote_addr).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(edgeAddresses).not.toContain(logged?.remote_addr);
    });

    test("every service reads back as sent, so the next pulumi up has nothing to change", async () => {
        const problems: string[] = [];
        for (const s of deployment.services()) {
            for (const diff of swarm.diffService(s.sent, await swarm.readService(deployment.docker, s.id))) problems.push(`${s.name}: ${diff}`);
        }
        expect(problems).toEqual([]);
    });

    test("a second pulumi up with no config change plans and does nothing", async () => {
        expect(await deployment.up(await deployment.program())).toEqual([]);
    });
});

describe("config changes under steady load", () => {
    const underLoad = async (label: string, config: Record<string, string>): Promise<{ steps: Step[]; report: LoadReport }> => {
        const next = await deployment.program(config);
        const ca = [swarmCertificate(deployment.current as ProgramRun), swarmCertificate(next)].join("\n");
        const load = new SteadyLoad({ baseUrl: `https://127.0.0.1:${httpsPort}`, ca, servername: "localhost", concurrency: 8, requests: steadyMix }).start();
        await sleep(1500);
        const started = Date.now();
        const steps = await deployment.up(next);
        const seconds = (Date.now() - started) / 1000;
        // The provider does not wait for global services (nginx in host mode): the load runs on until they have rolled too.
        const settledAfter = await settled();
        await sleep(3000);
        const report = await load.stop();
        figures.push(
            `${label}: ${report.ok} ok, ${report.failed} failed, ${report.refusedUnprocessed} refused unprocessed and sent again (HTTP/2); up took ${seconds.toFixed(1)} s, every task settled ${settledAfter.toFixed(1)} s later: ` +
                steps.map((s) => `${s.action} ${s.resource}`).join(", ") +
                (report.failed > 0 ? `\n    failures: ${JSON.stringify(report.errors)} ${JSON.stringify(report.statuses)}` : ""),
        );
        // Every replaced config and secret was created before its predecessor was deleted (which happens last).
        expect(steps.filter((s) => s.action === "replace" && /delete first/.test(s.detail)).map((s) => `${s.resource}: ${s.detail}`)).toEqual([]);
        return { steps, report };
    };
    const names = (steps: Step[], action: string) => steps.filter((s) => s.action === action).map((s) => s.resource).sort();

    test("replicas 2 → 3: the app service scales (and the replica alert's rules roll Prometheus): 0 failed requests", async () => {
        const { steps, report } = await underLoad("replicas 2 → 3", { replicas: "3" });
        expect(names(steps, "update")).toEqual(["app", "metrics-prometheus"]);
        expectNoFailures(report);
    });

    test("replicas 3 → 2: 0 failed requests", async () => {
        const { steps, report } = await underLoad("replicas 3 → 2", { replicas: "2" });
        expect(names(steps, "update")).toEqual(["app", "metrics-prometheus"]);
        expectNoFailures(report);
    });

    // The edge proxy holds 80/443 and is untouched; the front-door nginx behind it rolls start-first.
    test("tlsRotation 0 → 1: a new key secret and certificate config, nginx updated start-first behind the edge (which is untouched), serving the new certificate: 0 failed requests", async () => {
        const { steps, report } = await underLoad("tlsRotation 0 → 1", { tlsRotation: "1" });
        expect(names(steps, "update")).toEqual(["front-door-nginx"]);
        expect(names(steps, "replace")).toEqual(["front-door-nginx-cert.pem", "front-door-nginx-key.pem"]);
        expect(servedCertificate(httpsPort)).toBe(normalise(swarmCertificate(deployment.current as ProgramRun)));
        expectNoFailures(report);
    });

    test("a new nginx.conf (maxBodyMb 2 → 10): a new config, nginx and the app rolled start-first: 0 failed requests", async () => {
        const { steps, report } = await underLoad("maxBodyMb 2 → 10 (nginx.conf + app env)", { tlsRotation: "1", maxBodyMb: "10" });
        expect(names(steps, "update")).toEqual(["app", "front-door-nginx"]);
        expect(names(steps, "replace")).toEqual(["front-door-nginx-nginx.conf"]);
        expectNoFailures(report);
    });

    test("grafanaPasswordRotation 0 → 1: a new password secret, created before the old one goes, Grafana rolled: 0 failed requests", async () => {
        const { steps, report } = await underLoad("grafanaPasswordRotation 0 → 1 (a new secret)", { tlsRotation: "1", maxBodyMb: "10", grafanaPasswordRotation: "1" });
        expect(names(steps, "update")).toEqual(["dashboards-grafana"]);
        expect(names(steps, "replace")).toEqual(["dashboards-grafana-admin_password"]);
        expect(names(steps, "delete")).toEqual(["dashboards-grafana-admin_password"]);
        expectNoFailures(report);
    });

    test("an app-only change (appMemoryMb 512 → 640) rolls the app start-first, waited for: 0 failed requests", async () => {
        const { steps, report } = await underLoad("appMemoryMb 512 → 640 (app only, start-first)", { tlsRotation: "1", maxBodyMb: "10", grafanaPasswordRotation: "1", appMemoryMb: "640" });
        expect(names(steps, "update")).toEqual(["app"]);
        expectNoFailures(report);
    });
});

describe("pulumi up fails, naming the service and the task error, when a service does not converge", () => {
    test("a task that no node can hold (a reservation above the node's CPUs): the program's wait fails naming Swarm's reason, and leaves the service for the operator", async () => {
        const inputs = { ...(deployment.services().find((s) => s.name === "exporters-blackbox-exporter")?.sent as Record<string, any>) };
        inputs.name = `${stack}-unplaceable`;
        inputs.taskSpec = { ...inputs.taskSpec, resources: { ...inputs.taskSpec.resources, reservation: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 64e9 } } };
        await swarm.createService(deployment.docker, inputs);
        try {
            const wait = spawnSync("sh", ["-c", convergeCommand(inputs.name, 15)], { cwd: path.join(__dirname, ".."), encoding: "utf8" });
            figures.push(`an unplaceable task: the wait exited ${wait.status}: ${wait.stderr.trim().replace(/\n\s*/g, " | ")}`);
            expect(wait.status).toBe(1);
            expect(wait.stderr).toMatch(new RegExp(`service ${inputs.name} did not converge: after 15s, 0 of 1 tasks running the current spec`));
            expect(wait.stderr).toMatch(/no suitable node \(insufficient resources on 1 node\)/);
            expect(docker("service", "ls", "--quiet", "--filter", `name=${inputs.name}`)).not.toBe("");
        } finally {
            docker("service", "rm", inputs.name);
        }
    });
});

/**
 * Seconds until every service runs its desired tasks, each healthy, and no task is starting or
 * stopping. An update's monitor period may still be running then (Swarm reports "updating"
 * until it ends), but no task changes in it unless one fails, which the next check would see
 * as a rollback; a rollback or a paused update fails the test.
 */
async function settled(): Promise<number> {
    const started = Date.now();
    const deadline = started + 300_000;
    for (;;) {
        let busy = false;
        for (const s of deployment.services()) {
            const info = await deployment.docker.getService(s.id).inspect();
            const update: string = info.UpdateStatus?.State ?? "";
            if (update === "paused" || update.startsWith("rollback")) throw new Error(`${s.name}: update ${update}: ${info.UpdateStatus?.Message}`);
            const stopping = (await deployment.docker.listTasks({ filters: { service: [s.id], "desired-state": ["shutdown"] } })) as any[];
            if (stopping.some((t) => ["running", "starting", "preparing", "ready", "assigned", "accepted", "pending"].includes(t.Status?.State))) busy = true;
            const want = s.sent.mode.global ? 1 : s.sent.mode.replicated.replicas;
            const tasks = (await deployment.docker.listTasks({ filters: { service: [s.id], "desired-state": ["running"] } })) as any[];
            if (tasks.length !== want || tasks.some((t) => t.Status?.State !== "running")) busy = true;
        }
        // The backup job turns healthy only after its first run, minutes later; it serves no request.
        const starting = docker("ps", "--filter", `label=clinicalbdd.stack=${stack}`, "--filter", "health=starting", "--format", '{{.Label "clinicalbdd.service"}}')
            .split("\n")
            .filter((service) => service !== "" && service !== "backup");
        if (!busy && starting.length === 0) return (Date.now() - started) / 1000;
        if (Date.now() > deadline) throw new Error("the services did not settle within 5 minutes");
        await sleep(1000);
    }
}

