/**
 * The rehearsal: the rendered platform run with the real servers on loopback (see
 * rehearsal/stack.ts), and what it must show. Every process is stopped in afterAll, also
 * when a test fails; the whole file takes about two to three minutes.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as tls from "tls";
import { alertRuleGroups } from "../monitoring/prometheus/alertRules";
import { scrapeJobs } from "../monitoring/prometheus/prometheusConfig";
import { LoadReport, sampleGuideline, SteadyLoad, steadyMix } from "./engine/load";
import { request, sleep, waitUntil } from "../rehearsal/net";
import { appDir, Rehearsal } from "../rehearsal/stack";
import * as path from "path";

jest.setTimeout(120_000);

interface Target {
    labels: Record<string, string>;
    health: "up" | "down" | "unknown";
    lastError: string;
    scrapeUrl: string;
}

const reports: Record<string, LoadReport> = {};
let rehearsal: Rehearsal;

beforeAll(async () => {
    rehearsal = await Rehearsal.start({ replicas: 2 });
}, 180_000);

afterAll(async () => {
    // When a phase failed, nginx's own words say why (resolver, connect, reset…).
    if (rehearsal && Object.values(reports).some((r) => r.failed > 0)) {
        const errors = fs.readFileSync(path.join(rehearsal.dir, "logs", "nginx-error.log"), "utf8").split("\n");
        const distinct = [...new Set(errors.map((line) => line.replace(/^\S+ \S+ \[\w+\] \d+#\d+: \*\d+ /, "")))];
        process.stdout.write(`nginx error log (distinct lines, last 20):\n${distinct.slice(-20).join("\n")}\n`);
    }
    await rehearsal?.stop();
    for (const [label, report] of Object.entries(reports)) {
        process.stdout.write(`rehearsal load ${label}: ${report.ok} ok, ${report.failed} failed, ` +
            `${report.refusedUnprocessed} re-sent after the server closed a keep-alive connection, ` +
            `statuses ${JSON.stringify(report.statuses)}, errors ${JSON.stringify(report.errors)}, ${report.durationMs} ms` +
            `${report.failures.length ? `; failures: ${report.failures.join("; ")}` : ""}\n`);
    }
}, 60_000);

const loadConcurrency = 8;
const loadThroughNginx = (): SteadyLoad =>
    new SteadyLoad({ baseUrl: rehearsal.httpsUrl, ca: rehearsal.caPem, servername: rehearsal.settings.domain, concurrency: loadConcurrency, requests: steadyMix }).start();

const replicaUrl = (index: number, pathAndQuery: string): string =>
    `http://${rehearsal.replicaAddress(index)}:${rehearsal.addresses.appPort}${pathAndQuery}`;

/** Requests per upstream address in nginx's access log, from line `from` on. */
function upstreamCounts(from: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const entry of rehearsal.accessLogEntries().slice(from)) {
        for (const upstream of entry.upstream.split(/[,:]\s*/).filter((u) => /^\d+\.\d+\.\d+\.\d+$/.test(u))) {
            counts[upstream] = (counts[upstream] ?? 0) + 1;
        }
    }
    return counts;
}

/** A TLS handshake limited to one protocol version; resolves with the negotiated version or the error. */
function handshake(version: tls.SecureVersion): Promise<string> {
    return new Promise((resolve) => {
        const socket = tls.connect({
            host: rehearsal.addresses.front,
            port: rehearsal.addresses.https,
            servername: rehearsal.settings.domain,
            ca: rehearsal.caPem,
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
}

describe("the front door (nginx with the rendered nginx.conf)", () => {
    test("https /health through nginx returns the app's own health JSON", async () => {
        const through = await rehearsal.https("/health", { headers: { Accept: "application/json" } });
        const direct = await request(replicaUrl(1, "/health"));
        expect(through.status).toBe(200);
        expect(through.headers["content-type"]).toMatch(/application\/json/);
        const body = JSON.parse(through.body);
        expect(body).toMatchObject({ status: "ok", version: JSON.parse(direct.body).version });
        expect(Object.keys(body).sort()).toEqual(Object.keys(JSON.parse(direct.body)).sort());
        expect(body.checks.generator.status).toBe("pass");
        expect(through.certificateFingerprint).toBe(rehearsal.fingerprint);
    });

    test("http redirects to https, keeping the path", async () => {
        const answer = await request(`${rehearsal.httpUrl}/api/v1/openapi.json?x=1`, { headers: { Host: rehearsal.settings.domain } });
        expect(answer.status).toBe(301);
        expect(answer.headers.location).toBe(`https://${rehearsal.settings.domain}:${rehearsal.addresses.https}/api/v1/openapi.json?x=1`);
    });

    test("TLS 1.0 and 1.1 are refused by the server; 1.2 and 1.3 are negotiated", async () => {
        expect(await handshake("TLSv1")).toMatch(/^refused: .*(protocol version|unsupported protocol)/i);
        expect(await handshake("TLSv1.1")).toMatch(/^refused: .*(protocol version|unsupported protocol)/i);
        expect(await handshake("TLSv1.2")).toBe("TLSv1.2");
        expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
        // openssl's own client agrees (the server answers with a protocol_version alert).
        const s = (flag: string) => spawnSync("openssl", ["s_client", "-connect", `${rehearsal.addresses.front}:${rehearsal.addresses.https}`, flag,
            "-cipher", "DEFAULT:@SECLEVEL=0", "-servername", rehearsal.settings.domain], { input: "", encoding: "utf8", timeout: 10_000 });
        const tls10 = s("-tls1");
        expect(tls10.status).not.toBe(0);
        expect(`${tls10.stdout}${tls10.stderr}`).toMatch(/alert protocol version|unsupported protocol|no protocols available/i);
        expect(s("-tls1_2").stdout).toMatch(/Protocol\s*:\s*TLSv1\.2/);
    });

    test("the security headers are sent", async () => {
        const answer = await rehearsal.https("/health");
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

    test("/metrics is refused from outside, while each replica serves it to Prometheus", async () => {
        expect((await rehearsal.https("/metrics")).status).toBe(403);
        expect((await rehearsal.https("/metrics/anything")).status).toBe(403);
        const direct = await request(replicaUrl(1, "/metrics"));
        expect(direct.status).toBe(200);
        expect(direct.body).toContain("clinical_bdd_http_request");
    });

    test("an oversized body gets 413 from nginx, never reaching a replica", async () => {
        const before = rehearsal.accessLogEntries().length;
        const limit = rehearsal.settings.app.maxBodyMb * 1024 * 1024;
        const answer = await rehearsal.https("/api/v1/analyze", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ content: "x".repeat(limit + 1024) }),
        });
        expect(answer.status).toBe(413);
        expect(answer.body).toContain("nginx");
        // Wait for the 413's own line: another request (a probe, a scrape) may be logged first.
        const the413 = () => rehearsal.accessLogEntries().slice(before).find((e) => e.status === 413);
        await waitUntil("the 413 in the access log", async () => the413(), 5000);
        const entry = the413();
        expect(entry).toMatchObject({ path: "/api/v1/analyze", upstream: "" });
    });

    test("analyze through nginx returns a feature that the Gherkin parser accepts", async () => {
        const answer = await rehearsal.https("/api/v1/analyze", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify(sampleGuideline),
        });
        expect(answer.status).toBe(200);
        const feature = (JSON.parse(answer.body) as { feature: string }).feature;
        const plain = await rehearsal.https("/api/v1/analyze", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "text/x-gherkin" },
            body: JSON.stringify(sampleGuideline),
        });
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

describe("monitoring (Prometheus and Alertmanager with the rendered configs)", () => {
    const targets = async (): Promise<Target[]> => (await rehearsal.prometheusApi<{ activeTargets: Target[] }>("targets?state=active")).activeTargets;

    test("Prometheus shows every target up, the app's through DNS, and the health probe succeeding", async () => {
        const expectedJobs = Object.values(scrapeJobs).filter((job) => job !== scrapeJobs.cadvisor).sort();
        const up = await waitUntil("every target up", async () => {
            const all = await targets();
            const jobs = [...new Set(all.map((t) => t.labels.job))].sort();
            const appTargets = all.filter((t) => t.labels.job === scrapeJobs.app).length;
            return jobs.join() === expectedJobs.join() && appTargets === 2 && all.every((t) => t.health === "up") ? all : undefined;
        }, 60_000, 1000).catch(async (error: Error) => {
            const all = await targets();
            throw new Error(`${error.message}\n${all.map((t) => `${t.labels.job} ${t.labels.instance} ${t.health} ${t.lastError}`).join("\n")}`);
        });
        const appInstances = up.filter((t) => t.labels.job === scrapeJobs.app).map((t) => t.labels.instance).sort();
        expect(appInstances).toEqual([1, 2].map((i) => `${rehearsal.replicaAddress(i)}:${rehearsal.addresses.appPort}`));
        const probe = await waitUntil("probe_success of the health URL", async () => {
            const result = await rehearsal.prometheusApi<{ result: { value: [number, string] }[] }>(`query?query=${encodeURIComponent(`probe_success{job="${scrapeJobs.blackbox}"}`)}`);
            return result.result.length ? result.result[0].value[1] : undefined;
        }, 30_000, 1000);
        expect(probe).toBe("1");
    }, 100_000);

    test("the alert rules are loaded and Alertmanager is the alerts' destination", async () => {
        const groups = (await rehearsal.prometheusApi<{ groups: { name: string; rules: { name: string; health: string }[] }[] }>("rules")).groups;
        const rendered = alertRuleGroups(rehearsal.settings);
        expect(groups.map((g) => g.name).sort()).toEqual(rendered.map((g) => g.name).sort());
        expect(groups.flatMap((g) => g.rules.map((r) => r.name)).sort()).toEqual(rendered.flatMap((g) => g.rules.map((r) => r.alert)).sort());
        const managers = await waitUntil("Alertmanager discovered", async () => {
            const data = await rehearsal.prometheusApi<{ activeAlertmanagers: { url: string }[] }>("alertmanagers");
            return data.activeAlertmanagers.length ? data.activeAlertmanagers : undefined;
        }, 20_000, 500);
        expect(managers.map((m) => m.url)).toEqual([`${rehearsal.alertmanagerUrl}/api/v2/alerts`]);
    });

    test("stopping a replica makes its target go down while requests through nginx keep succeeding", async () => {
        const load = loadThroughNginx();
        const stopped = `${rehearsal.replicaAddress(2)}:${rehearsal.addresses.appPort}`;
        await rehearsal.stopReplica(2);
        const down = await waitUntil(`Prometheus to see ${stopped} down`, async () => {
            const target = (await targets()).find((t) => t.labels.instance === stopped);
            return target?.health === "down" ? target : undefined;
        }, 45_000, 1000);
        const report = (reports["replica stopped"] = await load.stop());
        expect(down.lastError).not.toBe("");
        expect(report.ok).toBeGreaterThan(20);
        expect(report).toMatchObject({ failed: 0, errors: {} });
        await rehearsal.startReplica(2);
    }, 100_000);
});

describe("limits", () => {
    test("more concurrent requests than the limit get 503s quickly, never a hang", async () => {
        const limit = rehearsal.settings.app.maxConcurrentRequests;
        // A replica whose analyses take 3 s; `app` resolves to it alone while this runs.
        const slow = 9;
        await rehearsal.startReplica(slow, { CLINICAL_BDD_TEST_ANALYZE_DELAY_SECONDS: "3" });
        await rehearsal.publishReplicas([slow]);
        try {
            await waitUntil("nginx to send requests to the slow replica only", async () => {
                const from = rehearsal.accessLogEntries().length;
                await Promise.all([1, 2, 3].map(() => rehearsal.https("/health")));
                await sleep(100);
                const counts = upstreamCounts(from);
                return Object.keys(counts).join() === rehearsal.replicaAddress(slow) ? true : undefined;
            }, 15_000, 500);
            const excess = 6;
            const answers = await Promise.all(Array.from({ length: limit + excess }, () =>
                rehearsal.https("/api/v1/analyze", {
                    method: "POST",
                    headers: { "Content-Type": "application/json", Accept: "application/json" },
                    body: JSON.stringify(sampleGuideline),
                    timeoutMs: 20_000,
                })));
            const rejected = answers.filter((a) => a.status === 503);
            const served = answers.filter((a) => a.status === 200);
            expect({ served: served.length, rejected: rejected.length }).toEqual({ served: limit, rejected: excess });
            for (const answer of rejected) {
                expect(answer.elapsedMs).toBeLessThan(1500);
                expect(answer.headers["retry-after"]).toMatch(/^\d+$/);
            }
            for (const answer of served) expect(answer.elapsedMs).toBeGreaterThanOrEqual(2900);
        } finally {
            await rehearsal.publishReplicas([1, 2]);
            await rehearsal.stopReplica(slow);
        }
    });
});

describe("zero failed requests under steady load", () => {
    beforeAll(async () => {
        // publishReplicas([1, 2]) at the end of the limit test outwaited nginx's cache; check.
        await waitUntil("nginx back on replicas 1 and 2", async () => {
            const from = rehearsal.accessLogEntries().length;
            await Promise.all([1, 2, 3, 4].map(() => rehearsal.https("/health")));
            await sleep(100);
            return Object.keys(upstreamCounts(from)).every((a) => a !== rehearsal.replicaAddress(9)) ? true : undefined;
        }, 15_000, 500);
    });

    test("(a) scaling 2 → 3 → 2: the new replica takes requests, the removed one drains", async () => {
        const load = loadThroughNginx();
        await sleep(1000);
        const from = rehearsal.accessLogEntries().length;
        await rehearsal.scaleTo(3);
        const third = rehearsal.replicaAddress(3);
        await waitUntil("requests on replica 3", async () => ((upstreamCounts(from)[third] ?? 0) >= 5 ? true : undefined), 15_000, 250);
        // Replica 3 leaves `app`, then stops once nginx's cached answer has expired.
        await rehearsal.scaleTo(2);
        await sleep(1000);
        const report = (reports["(a) scale 2→3→2"] = await load.stop());
        expect(rehearsal.runningReplicas).toEqual([1, 2]);
        expect(report.ok).toBeGreaterThan(50);
        expect(report).toMatchObject({ failed: 0, errors: {}, refusedUnprocessed: 0 });
    });

    test("(b) the certificate is replaced and nginx reloaded", async () => {
        const old = rehearsal.fingerprint;
        const load = loadThroughNginx();
        await sleep(1000);
        const renewed = rehearsal.replaceCertificate();
        expect(renewed).not.toBe(old);
        await waitUntil("nginx to serve the new certificate", async () => ((await rehearsal.https("/health")).certificateFingerprint === renewed ? true : undefined), 10_000, 200);
        await sleep(2000);
        const report = (reports["(b) certificate replaced"] = await load.stop());
        expect(report.ok).toBeGreaterThan(20);
        expect(report).toMatchObject({ failed: 0, errors: {} });
        // The old workers close idle keep-alive connections: at most one re-send per connection.
        expect(report.refusedUnprocessed).toBeLessThanOrEqual(loadConcurrency);
    });

    test("(c) nginx.conf is changed (maxBodyMb 2 → 1) and nginx reloaded", async () => {
        // A 1.5 MB JSON body whose content is empty: within 2 MB the app reads it and answers
        // 400; beyond 1 MB nginx answers 413 without passing it on.
        const body = `{"content": ""${" ".repeat(1.5 * 1024 * 1024)}}`;
        const probe = () => rehearsal.https("/api/v1/analyze", { method: "POST", headers: { "Content-Type": "application/json" }, body });
        expect((await probe()).status).toBe(400);
        const load = loadThroughNginx();
        await sleep(1000);
        rehearsal.reconfigureNginx({ maxBodyMb: "1" });
        await waitUntil("nginx to enforce the new body limit", async () => ((await probe()).status === 413 ? true : undefined), 10_000, 200);
        await sleep(2000);
        const report = (reports["(c) nginx.conf changed"] = await load.stop());
        expect(report.ok).toBeGreaterThan(20);
        expect(report).toMatchObject({ failed: 0, errors: {} });
        // The old workers close idle keep-alive connections: at most one re-send per connection.
        expect(report.refusedUnprocessed).toBeLessThanOrEqual(loadConcurrency);
    });
});
