/**
 * The front door and the monitoring as deployed, checked on the stack platform.test.ts has
 * already deployed on the real engine (replicas 2): nginx through its published ports on
 * 127.0.0.1, Prometheus through its own, and each replica by its container IP on the platform
 * network. They are the checks the loopback rehearsal (test/rehearsal.test.ts) made that the
 * engine tests did not, and replace it. Whatever a check changes (a stopped replica, a
 * throwaway container) is put back before it ends, so the tests after it find the stack as
 * deployed.
 */
import { execFileSync, spawnSync } from "child_process";
import { X509Certificate } from "crypto";
import * as path from "path";
import * as tls from "tls";
import { parseSettings, Settings } from "../../components/platform/settings";
import { dockerScrapeTargets } from "../../components/platform/topology";
import { alertRuleGroups } from "../../monitoring/prometheus/alertRules";
import { scrapeJobs } from "../../monitoring/prometheus/prometheusConfig";
import { ProgramRun } from "../helpers/pulumiProgram";
import { Answer, request, RequestOptions, sleep, waitUntil } from "../helpers/net";
import { CONTAINER, Deployment } from "./deployment";
import { LoadReport, sampleGuideline, SteadyLoad, steadyMix } from "./load";
import { expectNoFailures } from "./probes";
import { TestPorts } from "./testStack";

/** The deployed stack, as platform.test.ts holds it once its beforeAll has run. */
export type DeployedStack = () => { deployment: Deployment; ports: TestPorts };

interface Target {
    labels: Record<string, string>;
    health: "up" | "down" | "unknown";
    lastError: string;
}

/** One app replica as the engine runs it: its container, address on the platform network and port. */
interface Replica {
    readonly name: string;
    readonly id: string;
    readonly address: string;
    readonly port: number;
    readonly network: string;
}

const appDir = path.join(__dirname, "..", "..", "app");

/**
 * Registers the describe blocks; `stack` is called inside the tests, after the deployment.
 * `figures` collects lines for the test file's report.
 */
export function frontDoorChecks(stack: DeployedStack, figures: string[]): void {
    const deployment = () => stack().deployment;
    const ports = () => stack().ports;
    const settings = (): Settings => parseSettings((key) => deployment().baseConfig[key]);
    const certificatePem = () => stackCertificate(deployment().current as ProgramRun);
    const https = (pathAndQuery: string, options: RequestOptions = {}): Promise<Answer> =>
        request(`https://127.0.0.1:${ports().https}${pathAndQuery}`, { ca: certificatePem(), servername: settings().domain, ...options });
    const replicas = () => appReplicas(deployment());
    const replicaUrl = (r: Replica, pathAndQuery: string) => `http://${r.address}:${r.port}${pathAndQuery}`;

    /** A TLS handshake limited to one protocol version; resolves with the negotiated version or the error. */
    const handshake = (version: tls.SecureVersion): Promise<string> =>
        new Promise((resolve) => {
            const socket = tls.connect({
                host: "127.0.0.1",
                port: ports().https,
                servername: settings().domain,
                ca: certificatePem(),
                minVersion: version,
                maxVersion: version,
                // Let the client offer TLS 1.0/1.1 at all (OpenSSL 3's default level forbids it),
                // so a refusal is the server's.
                ciphers: "DEFAULT:@SECLEVEL=0",
            });
            socket.setTimeout(5000, () => socket.destroy(new Error("timeout")));
            socket.once("secureConnect", () => {
                resolve(socket.getProtocol() ?? "unknown");
                socket.end();
            });
            socket.once("error", (error) => resolve(`refused: ${error.message}`));
        });

    describe("the front door as deployed (nginx with the rendered nginx.conf, on the engine)", () => {
        test("https /health through nginx returns a replica's own health JSON, with the stack's certificate", async () => {
            const through = await https("/health", { headers: { Accept: "application/json" } });
            expect(through.status).toBe(200);
            expect(through.headers["content-type"]).toMatch(/application\/json/);
            const body = JSON.parse(through.body);
            for (const replica of await replicas()) {
                const direct = JSON.parse((await request(replicaUrl(replica, "/health"))).body);
                expect(body).toMatchObject({ status: "ok", version: direct.version });
                expect(Object.keys(body).sort()).toEqual(Object.keys(direct).sort());
            }
            expect(body.checks.generator.status).toBe("pass");
            expect(through.certificateFingerprint).toBe(new X509Certificate(certificatePem()).fingerprint256);
        });

        test("http redirects to https, keeping the path and the query", async () => {
            const answer = await request(`http://127.0.0.1:${ports().http}/api/v1/openapi.json?x=1`, { headers: { Host: settings().domain } });
            expect(answer.status).toBe(301);
            expect(answer.headers.location).toBe(`https://${settings().domain}:${ports().https}/api/v1/openapi.json?x=1`);
        });

        test("TLS 1.0 and 1.1 are refused by the server; 1.2 and 1.3 are negotiated", async () => {
            expect(await handshake("TLSv1")).toMatch(/^refused: .*(protocol version|unsupported protocol)/i);
            expect(await handshake("TLSv1.1")).toMatch(/^refused: .*(protocol version|unsupported protocol)/i);
            expect(await handshake("TLSv1.2")).toBe("TLSv1.2");
            expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
            // openssl's own client agrees (the server answers with a protocol_version alert).
            const s = (flag: string) =>
                spawnSync("openssl", ["s_client", "-connect", `127.0.0.1:${ports().https}`, flag, "-cipher", "DEFAULT:@SECLEVEL=0", "-servername", settings().domain],
                    { input: "", encoding: "utf8", timeout: 10_000 });
            const tls10 = s("-tls1");
            expect(tls10.status).not.toBe(0);
            expect(`${tls10.stdout}${tls10.stderr}`).toMatch(/alert protocol version|unsupported protocol|no protocols available/i);
            expect(s("-tls1_2").stdout).toMatch(/Protocol\s*:\s*TLSv1\.2/);
        });

        test("the security headers are sent", async () => {
            const answer = await https("/health");
            expect(answer.headers).toMatchObject({
                "strict-transport-security": "max-age=31536000; includeSubDomains",
                "x-frame-options": "DENY",
                "x-content-type-options": "nosniff",
                "referrer-policy": "strict-origin-when-cross-origin",
                "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
            });
            expect(answer.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
            expect(answer.headers.server).toBe("nginx");
        });

        test("/metrics is refused through nginx, while each replica serves it on the platform network", async () => {
            expect((await https("/metrics")).status).toBe(403);
            expect((await https("/metrics/anything")).status).toBe(403);
            const all = await replicas();
            expect(all).toHaveLength(2);
            for (const replica of all) {
                const direct = await request(replicaUrl(replica, "/metrics"));
                expect({ replica: replica.name, status: direct.status }).toEqual({ replica: replica.name, status: 200 });
                expect(direct.body).toContain("clinical_bdd_http_request");
            }
        });

        test("an oversized body gets 413 from nginx, never reaching a replica (nginx's access log)", async () => {
            const nginx = deployment().containerName("front-door-nginx");
            const since = Math.floor(Date.now() / 1000) - 1;
            const limit = settings().app.maxBodyMb * 1024 * 1024;
            const answer = await https("/api/v1/analyze", {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ content: "x".repeat(limit + 1024) }),
            });
            expect(answer.status).toBe(413);
            expect(answer.body).toContain("nginx");
            const requestId = answer.headers["x-request-id"];
            // Wait for the 413's own line: other requests (probes, scrapes) may be logged first.
            const the413 = () => accessLog(nginx, since).find((e) => e.status === 413 && (requestId === undefined || e.request_id === requestId));
            const entry = await waitUntil("the 413 in nginx's access log", async () => the413(), 10_000, 250);
            expect(entry).toMatchObject({ method: "POST", path: "/api/v1/analyze", upstream: "", upstream_status: "" });
        });

        test("analyze through nginx returns a feature the Gherkin parser accepts; Accept: text/x-gherkin returns the same feature", async () => {
            const analyze = (accept: string) => https("/api/v1/analyze", {
                method: "POST",
                headers: { "Content-Type": "application/json", Accept: accept },
                body: JSON.stringify(sampleGuideline),
                timeoutMs: 30_000,
            });
            const answer = await analyze("application/json");
            expect(answer.status).toBe(200);
            const feature = (JSON.parse(answer.body) as { feature: string }).feature;
            const plain = await analyze("text/x-gherkin");
            expect(plain.status).toBe(200);
            expect(plain.headers["content-type"]).toMatch(/^text\/x-gherkin/);
            expect(plain.body).toBe(feature);
            // gherkin-official, the Cucumber parser, from the app's virtualenv.
            const parse = spawnSync(path.join(appDir, ".venv", "bin", "python"), ["-c",
                "import json, sys\nfrom gherkin.parser import Parser\ndoc = Parser().parse(sys.stdin.read())\n" +
                "f = doc['feature']\nprint(json.dumps({'name': f['name'], 'scenarios': sum(1 for c in f['children'] if 'scenario' in c)}))"],
            { input: feature, encoding: "utf8", timeout: 30_000 });
            expect(parse.stderr).toBe("");
            const parsed = JSON.parse(parse.stdout) as { name: string; scenarios: number };
            expect(parsed.name).toMatch(/pneumonia/i);
            expect(parsed.scenarios).toBeGreaterThanOrEqual(1);
        });
    });

    describe("the monitoring as deployed (Prometheus and Alertmanager with the rendered configs, on the engine)", () => {
        const prometheusApi = async <T>(apiPath: string): Promise<T> => {
            const answer = await request(`http://127.0.0.1:${ports().prometheus}/api/v1/${apiPath}`, { timeoutMs: 5000 });
            const parsed = JSON.parse(answer.body) as { status: string; data: T; error?: string };
            if (parsed.status !== "success") throw new Error(`Prometheus ${apiPath}: ${answer.status} ${parsed.error ?? answer.body}`);
            return parsed.data;
        };
        const targets = async (): Promise<Target[]> => (await prometheusApi<{ activeTargets: Target[] }>("targets?state=active")).activeTargets;
        const query = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> =>
            (await prometheusApi<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`query?query=${encodeURIComponent(promql)}`)).result;
        const appInstances = async () => (await replicas()).map((r) => `${r.address}:${r.port}`).sort();
        /** Waits until every scrape job has its targets up, the app's one per running replica; returns them. */
        const everyTargetUp = async (): Promise<Target[]> => {
            const expectedJobs = Object.values(scrapeJobs).sort();
            const instances = await appInstances();
            return waitUntil("every target up, one app target per replica", async () => {
                const all = await targets();
                const jobs = [...new Set(all.map((t) => t.labels.job))].sort();
                const app = all.filter((t) => t.labels.job === scrapeJobs.app).map((t) => t.labels.instance).sort();
                return jobs.join() === expectedJobs.join() && app.join() === instances.join() && all.every((t) => t.health === "up") ? all : undefined;
            }, 90_000, 1000).catch(async (error: Error) => {
                const all = await targets();
                throw new Error(`${error.message}\nreplicas ${instances.join(", ")}\n${all.map((t) => `${t.labels.job} ${t.labels.instance} ${t.health} ${t.lastError}`).join("\n")}`);
            });
        };

        test("Prometheus shows every scrape job's targets up, the app's through DNS (one per replica), and the health probe succeeding", async () => {
            const up = await everyTargetUp();
            expect(up.filter((t) => t.labels.job === scrapeJobs.app).map((t) => t.labels.instance).sort()).toEqual(await appInstances());
            expect(await appInstances()).toHaveLength(2);
            const probe = await waitUntil("probe_success of the health URL", async () => {
                const result = await query(`probe_success{job="${scrapeJobs.blackbox}"}`);
                return result.length ? result.map((r) => r.value[1]) : undefined;
            }, 30_000, 1000);
            expect(probe).toEqual(["1"]);
        }, 150_000);

        test("the alert rules loaded are the rendered ones, and Alertmanager is discovered as the alerts' destination", async () => {
            const groups = (await prometheusApi<{ groups: { name: string; rules: { name: string; health: string }[] }[] }>("rules")).groups;
            const rendered = alertRuleGroups(settings());
            expect(groups.map((g) => g.name).sort()).toEqual(rendered.map((g) => g.name).sort());
            expect(groups.flatMap((g) => g.rules.map((r) => r.name)).sort()).toEqual(rendered.flatMap((g) => g.rules.map((r) => r.alert)).sort());
            expect(groups.flatMap((g) => g.rules.filter((r) => r.health === "err").map((r) => r.name))).toEqual([]);
            const managers = await waitUntil("Alertmanager discovered", async () => {
                const data = await prometheusApi<{ activeAlertmanagers: { url: string }[] }>("alertmanagers");
                return data.activeAlertmanagers.length ? data.activeAlertmanagers : undefined;
            }, 30_000, 500);
            expect(managers.map((m) => m.url)).toEqual([`http://${dockerScrapeTargets().alertmanager}/api/v2/alerts`]);
        });

        test("stopping a replica (docker stop) takes its target out of the up ones while requests through nginx keep succeeding; started again, it is back", async () => {
            const [, second] = await replicas();
            const stopped = `${second.address}:${second.port}`;
            const load = new SteadyLoad({ baseUrl: `https://127.0.0.1:${ports().https}`, ca: certificatePem(), servername: settings().domain, concurrency: 8, requests: steadyMix }).start();
            let report: LoadReport | undefined;
            try {
                await sleep(1000);
                await deployment().docker.getContainer(second.id).stop();
                // Docker's resolver drops a stopped container's record, so Prometheus may drop the
                // target at its next DNS refresh before a scrape has failed: either counts, and
                // up{job="app"} then sums to the one replica left.
                let seen: Target | "dropped" | undefined;
                await waitUntil(`Prometheus to count ${stopped} out`, async () => {
                    const target = (await targets()).find((t) => t.labels.instance === stopped);
                    if (target?.health === "down") seen ??= target;
                    else if (!target) seen ??= "dropped";
                    const upSum = (await query(`sum(up{job="${scrapeJobs.app}"})`))[0]?.value[1];
                    return seen !== undefined && upSum === "1" ? true : undefined;
                }, 60_000, 500);
                if (seen !== "dropped" && seen !== undefined) expect(seen.lastError).not.toBe("");
                await sleep(2000);
                report = await load.stop();
                figures.push(`replica ${second.name} stopped: ${report.ok} ok, ${report.failed} failed through nginx; Prometheus saw its target ${seen === "dropped" ? "dropped (DNS)" : "down"}`);
            } finally {
                if (!report) await load.stop().catch(() => undefined);
                await deployment().docker.getContainer(second.id).start().catch(() => undefined);
                await waitUntil(`${second.name} healthy again`, async () =>
                    (await deployment().docker.getContainer(second.id).inspect()).State.Health?.Status === "healthy" ? true : undefined, 90_000, 1000);
            }
            const measured = report as LoadReport;
            expect(measured.ok).toBeGreaterThan(20);
            expectNoFailures(measured);
            await everyTargetUp();
        }, 240_000);
    });

    describe("limits as deployed (a replica's concurrency limit, on the engine)", () => {
        test("more concurrent requests than maxConcurrentRequests get 503 quickly with Retry-After, never a hang", async () => {
            const limit = settings().app.maxConcurrentRequests;
            const [model] = await replicas();
            // A throwaway container of the replicas' image, env and user on the platform network,
            // with no `app` alias (neither nginx nor Prometheus finds it) and analyses taking 3 s.
            const slow = await startSlowReplica(deployment(), model, { CLINICAL_BDD_TEST_ANALYZE_DELAY_SECONDS: "3" });
            try {
                await waitUntil("the slow replica's /health", async () => ((await request(replicaUrl(slow, "/health"), { timeoutMs: 2000 })).status === 200 ? true : undefined), 60_000, 500);
                const excess = 6;
                const answers = await Promise.all(Array.from({ length: limit + excess }, () =>
                    request(replicaUrl(slow, "/api/v1/analyze"), {
                        method: "POST",
                        headers: { "Content-Type": "application/json", Accept: "application/json" },
                        body: JSON.stringify(sampleGuideline),
                        timeoutMs: 20_000,
                    })));
                const rejected = answers.filter((a) => a.status === 503);
                const served = answers.filter((a) => a.status === 200);
                figures.push(`limit ${limit} on one replica, ${limit + excess} at once: ${served.length} served ` +
                    `(${Math.min(...served.map((a) => a.elapsedMs))}-${Math.max(...served.map((a) => a.elapsedMs))} ms), ` +
                    `${rejected.length} refused 503 (slowest ${Math.max(...rejected.map((a) => a.elapsedMs))} ms)`);
                expect({ served: served.length, rejected: rejected.length }).toEqual({ served: limit, rejected: excess });
                for (const answer of rejected) {
                    expect(answer.elapsedMs).toBeLessThan(1500);
                    expect(answer.headers["retry-after"]).toMatch(/^\d+$/);
                }
                for (const answer of served) expect(answer.elapsedMs).toBeGreaterThanOrEqual(2900);
            } finally {
                await deployment().docker.getContainer(slow.id).remove({ force: true }).catch(() => undefined);
            }
        }, 120_000);
    });
}

/** The certificate the program hands nginx, as it appears in the front door's push request. */
function stackCertificate(run: ProgramRun): string {
    const push = JSON.parse(run.one("command:local:Command", "front-door-config-push").inputs.stdin);
    return push.files.find((f: { path: string }) => f.path.endsWith("cert.pem")).content;
}

/** The running app replicas, by resource name, each with its address on the network where it is `app`. */
async function appReplicas(deployment: Deployment): Promise<Replica[]> {
    const containers = deployment.containers().filter((c) => c.resource.type === CONTAINER && /^app-replica-\d+$/.test(c.name)).sort((a, b) => a.name.localeCompare(b.name));
    return Promise.all(containers.map(async (c) => {
        const inspected = await deployment.docker.getContainer(c.id).inspect();
        const networks = Object.entries(inspected.NetworkSettings.Networks);
        const [network, endpoint] = networks.find(([, n]) => (n.Aliases ?? []).includes("app")) ?? networks[0];
        const port = Number(envOf(inspected.Config.Env).get("PORT"));
        return { name: c.name, id: c.id, address: endpoint.IPAddress, port, network };
    }));
}

function envOf(env: string[]): Map<string, string> {
    return new Map(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const));
}

/**
 * Starts a container of `model`'s image with its env (and `extraEnv`), user, mounts and
 * tmpfs, attached to its network without aliases, named and labelled for this test run.
 */
async function startSlowReplica(deployment: Deployment, model: Replica, extraEnv: Record<string, string>): Promise<Replica> {
    const inspected = await deployment.docker.getContainer(model.id).inspect();
    const env = envOf(inspected.Config.Env);
    for (const [key, value] of Object.entries(extraEnv)) env.set(key, value);
    const name = `${deployment.stack}-limits-slow-replica-${process.pid}`;
    const container = await deployment.docker.createContainer({
        name,
        Image: inspected.Config.Image,
        Env: [...env].map(([key, value]) => `${key}=${value}`),
        User: inspected.Config.User,
        Labels: { "org.clinicalbdd.test": "frontDoorChecks", "org.clinicalbdd.stack": deployment.stack },
        HostConfig: {
            NetworkMode: model.network,
            Binds: inspected.HostConfig.Binds ?? undefined,
            Mounts: inspected.HostConfig.Mounts ?? undefined,
            Tmpfs: inspected.HostConfig.Tmpfs ?? undefined,
            ReadonlyRootfs: inspected.HostConfig.ReadonlyRootfs,
        },
    });
    await container.start();
    const address = (await container.inspect()).NetworkSettings.Networks[model.network]?.IPAddress;
    if (!address) throw new Error(`${name}: no address on ${model.network}`);
    return { name, id: container.id, address, port: model.port, network: model.network };
}

/** nginx's access log (the rendered `json` log_format, on the container's stdout) since `since` (Unix seconds). */
function accessLog(container: string, since: number): { status: number; method: string; path: string; upstream: string; upstream_status: string; request_id: string }[] {
    const out = execFileSync("docker", ["logs", "--since", String(since), container], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 * 1024 * 1024 });
    return out.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}
