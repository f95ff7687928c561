/**
 * `npm run bench`: the front-door benchmark (./frontDoorBenchmark.ts) on a platform the
 * program deploys on the real engine, one replica first, then scaled by `pulumi up` to 2 and
 * 3. A benchmark, not a test: it prints figures and writes docs/benchmarks.md; it fails only
 * when the platform cannot be deployed or measured.
 */
import { CONTAINER, Deployment } from "./deployment";
import { benchmarkFrontDoor } from "./frontDoorBenchmark";
import { testDeployment } from "./testStack";

jest.setTimeout(40 * 60_000);

let deployment: Deployment;

afterAll(async () => {
    await deployment?.destroy();
});

test("nginx + TLS against a direct replica, 1 to 3 replicas", async () => {
    const created = await testDeployment(`bench${process.pid}`, { replicas: "1" });
    deployment = created.deployment;
    await deployment.up(await deployment.program());
    const replica = deployment.containers().find((c) => c.resource.type === CONTAINER && c.name === "app-replica-0");
    if (!replica) throw new Error("no app-replica-0 deployed");
    const inspected = await deployment.docker.getContainer(replica.id).inspect();
    const address = Object.values(inspected.NetworkSettings.Networks)[0]?.IPAddress;
    const env = new Map(inspected.Config.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const));
    const rows = await benchmarkFrontDoor({
        directUrl: `http://${address}:${env.get("PORT")}`,
        frontDoorUrl: `https://127.0.0.1:${created.ports.https}`,
        app: { gunicornWorkers: env.get("GUNICORN_WORKERS") ?? "?", maxConcurrentRequests: env.get("MAX_CONCURRENT_REQUESTS") ?? "?" },
        scaleTo: async (replicas) => {
            await deployment.up(await deployment.program({ replicas: String(replicas) }));
        },
    });
    expect(rows).toHaveLength(8);
});
