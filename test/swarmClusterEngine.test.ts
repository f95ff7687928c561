/**
 * The Swarm target on a cluster of three engines (test/engine/swarm-cluster.sh, which runs this
 * file with DOCKER_HOST at the manager): each engine in a network namespace of its own, node1
 * the manager, data and edge node, node2 an edge node, node3 a worker. The program's services
 * are created as @pulumi/docker creates them (test/engine/swarmProvider.ts); then, under steady
 * load through an edge proxy, the edge node running the front-door nginx is drained (a host
 * being patched), and node3's engine stops as a host going down would: their tasks must move
 * to the other nodes with no failed request. Run: `npm run test:swarm-cluster`.
 */
import { execFileSync } from "child_process";
import { LoadReport, SteadyLoad, steadyMix } from "./engine/load";
import { Deployment } from "./engine/deployment";
import { expectNoFailures, get, sleep } from "./engine/probes";
import { swarmCertificate } from "./engine/swarmNode";
import { ProgramRun } from "./helpers/pulumiProgram";

jest.setTimeout(15 * 60_000);

const stack = `cluster${process.pid}`;
const nodeAddress = { node1: "10.77.0.11", node2: "10.77.0.12", node3: "10.77.0.13" } as const;
const figures: string[] = [];
let deployment: Deployment;

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", timeout: 60_000 }).trim();

/** Running tasks of a service: one "node state" line each. */
function runningTasks(service: string): { node: string; state: string }[] {
    return docker("service", "ps", `${stack}-${service}`, "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}")
        .split("\n")
        .filter(Boolean)
        .map((line) => ({ node: line.split(" ")[0], state: line.split(" ")[1] }));
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (!check()) {
        if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
        await sleep(1000);
    }
    return (Date.now() - started) / 1000;
}

beforeAll(async () => {
    const script = process.env.SWARM_CLUSTER_SCRIPT;
    if (!script || !process.env.DOCKER_HOST?.includes("clinicalbdd-swarm")) {
        throw new Error("run this through `bash test/engine/swarm-cluster.sh test` (npm run test:swarm-cluster): it creates the three engines and points DOCKER_HOST at the manager");
    }
    expect(docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").split("\n").sort()).toEqual(["node1 Ready", "node2 Ready", "node3 Ready"]);
    deployment = new Deployment(stack, {
        platform: "swarm",
        appImage: "clinical-bdd-creator-app:local",
        replicas: "3",
        appMemoryMb: "512",
        appCpus: "0.4",
    });
    const started = Date.now();
    await deployment.up(await deployment.program());
    figures.push(`first pulumi up on three nodes: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

afterAll(() => {
    console.log(`Swarm cluster figures (stack ${stack}, three engines in network namespaces):\n  ${figures.join("\n  ")}`);
    // swarm-cluster.sh removes the engines, and everything on them, after this file.
});

describe("three engines, one platform", () => {
    test("the app's three tasks spread over the three nodes; the data services on node1; the edge proxy on both edge nodes; node-exporter on every node", async () => {
        await until("every app task running", () => runningTasks("app").filter((t) => t.state === "Running").length === 3, 180_000);
        await until("every node-exporter running", () => runningTasks("exporters-node-exporter").filter((t) => t.state === "Running").length === 3, 180_000);
        expect(runningTasks("app").map((t) => t.node).sort()).toEqual(["node1", "node2", "node3"]);
        for (const service of ["metrics-prometheus", "alerting-alertmanager", "dashboards-grafana"]) {
            expect({ service, nodes: runningTasks(service).map((t) => t.node) }).toEqual({ service, nodes: ["node1"] });
        }
        expect(runningTasks("front-door-edge").map((t) => t.node).sort()).toEqual(["node1", "node2"]);
        expect(runningTasks("exporters-node-exporter").map((t) => t.node).sort()).toEqual(["node1", "node2", "node3"]);
    });

    test("healthUrl answers through either edge node, over the overlay between the engines", async () => {
        await until("both edge proxies running", () => runningTasks("front-door-edge").filter((t) => t.state === "Running").length === 2, 180_000);
        for (const address of [nodeAddress.node1, nodeAddress.node2]) {
            const health = await get(`https://${address}/health`);
            expect({ address, status: health.status, body: JSON.parse(health.body).status }).toEqual({ address, status: 200, body: "ok" });
        }
    });

    test("patching an edge node (drained, then back) under load through the other edge: its front-door nginx task moves, and no request fails", async () => {
        expect(runningTasks("front-door-nginx").map((t) => t.node).sort()).toEqual(["node1", "node2"]);
        // node2: draining node1 would also stop the data services, which have nowhere else to go.
        const [frontDoor, other] = ["node2", "node1"] as const;
        const ca = swarmCertificate(deployment.current as ProgramRun);
        const load = new SteadyLoad({ baseUrl: `https://${nodeAddress[other]}`, ca, servername: "localhost", concurrency: 8, requests: steadyMix }).start();
        await sleep(3000);
        docker("node", "update", "--availability", "drain", frontDoor);
        const moved = await until(`both front-door nginx tasks running on ${other}`, () => {
            const tasks = runningTasks("front-door-nginx");
            return tasks.length === 2 && tasks.every((t) => t.node === other && t.state === "Running");
        }, 180_000);
        await sleep(3000);
        const report: LoadReport = await load.stop();
        docker("node", "update", "--availability", "active", frontDoor);
        figures.push(
            `${frontDoor} drained (an edge proxy and a front-door nginx on it), load through ${other}'s edge: both front-door tasks on ${other} ${moved.toFixed(1)} s later; ` +
                `${report.ok} ok, ${report.failed} failed, ${report.refusedUnprocessed} refused unprocessed and sent again (HTTP/2)` +
                (report.failed > 0 ? `\n    failures: ${JSON.stringify(report.errors)} ${JSON.stringify(report.statuses)}` : ""),
        );
        // Swarm does not move replicated tasks back after a drain (node3 keeps its app task for the
        // next test); the global edge proxy returns to the node.
        await until("three app tasks running", () => runningTasks("app").filter((t) => t.state === "Running").length === 3, 180_000);
        await until("the edge proxy back on both edge nodes", () => runningTasks("front-door-edge").filter((t) => t.state === "Running").length === 2, 180_000);
        expectNoFailures(report);
    });

    test("node3's engine stops under steady load: its app task moves to node1 or node2, and no request fails", async () => {
        const ca = swarmCertificate(deployment.current as ProgramRun);
        const load = new SteadyLoad({ baseUrl: `https://${nodeAddress.node1}`, ca, servername: "localhost", concurrency: 8, requests: steadyMix }).start();
        await sleep(3000);
        const stopped = Date.now();
        execFileSync("bash", [process.env.SWARM_CLUSTER_SCRIPT as string, "stop-node", "3"], { stdio: "pipe", timeout: 120_000 });
        const engineStopped = (Date.now() - stopped) / 1000;
        const nodeDown = await until("node3 reported down", () => docker("node", "inspect", "node3", "--format", "{{.Status.State}}") === "down", 120_000);
        await until("three app tasks running again, none on node3", () => {
            const tasks = runningTasks("app");
            return tasks.length === 3 && tasks.every((t) => t.state === "Running" && t.node !== "node3");
        }, 240_000);
        const moved = (Date.now() - stopped) / 1000;
        await sleep(3000);
        const report: LoadReport = await load.stop();
        figures.push(
            `node3's engine stopped (${engineStopped.toFixed(1)} s to stop its containers), reported down ${nodeDown.toFixed(1)} s later, ` +
                `three app tasks running on node1/node2 ${moved.toFixed(1)} s after the stop: ${report.ok} ok, ${report.failed} failed, ${report.refusedUnprocessed} refused unprocessed and sent again (HTTP/2)` +
                (report.failed > 0 ? `\n    failures: ${JSON.stringify(report.errors)} ${JSON.stringify(report.statuses)}` : ""),
        );
        expect(runningTasks("app").map((t) => t.node).filter((n) => n === "node3")).toEqual([]);
        expectNoFailures(report);
    });
});

