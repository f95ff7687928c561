/**
 * The operator's Docker verbs (cli/, as npm run <verb> runs them) run for real against the platform deployed on
 * the real engine: status, logs, restart of every service under steady HTTPS load through
 * the front door (failed requests counted), backup then restore round trips for Grafana and
 * Prometheus (the data checked afterwards), and restores that fail part way — a corrupted
 * archive, a write refused as on a full disk, the restore step killed, the verb itself
 * stopped — each leaving every container running. The verbs that call pulumi (scale, stop,
 * renew-cert, rotate-grafana-password) are tested against a recording stack in test/cli/; here
 * `pulumi` is a stand-in that only answers stack outputs, for status.
 * Figures are printed as a table at the end.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LoadReport, SteadyLoad, steadyMix } from "./engine/load";
import { deployForOps, DeployedPlatform, docker, engineAnswers, OpsRun, sleep, startOps, writePulumiStandIn } from "./helpers/opsPlatform";
import { makeTempDir } from "./helpers/tools";

jest.setTimeout(25 * 60_000);


const stack = `opsengine${process.pid}`;
let platform: DeployedPlatform;
let tmp: ReturnType<typeof makeTempDir>;
let env: Record<string, string>;
let ca = "";
let baseUrl = "";
/** Docker name by service label, e.g. grafana → engine name; app → the replicas. */
const names: Record<string, string[]> = {};
let jobImage = "";
let grafanaVolume = "";
let prometheusUrl = "";
let grafanaUrl = "";
const restartFigures: { verb: string; seconds: number; requests: number; failed: number; errors: string }[] = [];
const restoreFigures: { what: string; seconds: number; outcome: string; checked: string }[] = [];

const one = (service: string): string => {
    const list = names[service] ?? [];
    if (list.length !== 1) throw new Error(`expected one ${service} container in stack ${stack}, found ${list.length}`);
    return list[0];
};

function ops(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<OpsRun> {
    return startOps([...args, "--stack", stack], { ...env, ...extraEnv }).done;
}

const inspect = (name: string, format: string) => docker(["inspect", "-f", format, name]);
const published = (name: string, port: string) => docker(["port", name, port]).split("\n")[0];

/** Runs sqlite3 on Grafana's database in a one-shot container of the backup image (it has sqlite3). */
function grafanaSql(sql: string): string {
    return docker(["run", "--rm", "--network", "none", "-v", `${grafanaVolume}:/g`, jobImage, "sqlite3", "/g/grafana.db", sql]);
}
const markers = () => grafanaSql("CREATE TABLE IF NOT EXISTS ops_marker (label TEXT); SELECT label FROM ops_marker ORDER BY rowid;").split("\n").filter((l) => l !== "");
const addMarker = (label: string) => grafanaSql(`CREATE TABLE IF NOT EXISTS ops_marker (label TEXT); INSERT INTO ops_marker VALUES ('${label}');`);

/** Runs a shell command in the archives volume (written there, as root). */
function inArchives(script: string): string {
    const job = one("backup");
    const source = inspect(job, '{{range .Mounts}}{{if eq .Destination "/backups"}}{{if eq .Type "volume"}}{{.Name}}{{else}}{{.Source}}{{end}}{{end}}{{end}}');
    return docker(["run", "--rm", "--network", "none", "-v", `${source}:/backups`, jobImage, "bash", "-c", script]);
}

async function promQuery(query: string, time: number): Promise<number | undefined> {
    const answer = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}&time=${time}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await answer.json()) as { data: { result: { value: [number, string] }[] } };
    const first = body.data.result[0];
    return first ? Number(first.value[1]) : undefined;
}

/** Every running container of the stack, with its state and health. */
function states(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of docker(["ps", "-a", "--filter", `label=clinicalbdd.stack=${stack}`, "--format", "{{.Names}} {{.State}}"]).split("\n")) {
        const [name, state] = line.split(" ");
        if (name) out[name] = state;
    }
    return out;
}

async function waitAllHealthy(seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const unhealthy = Object.keys(states()).filter((n) => !/^(healthy|none)$/.test(inspect(n, "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}")));
        if (unhealthy.length === 0) return;
        if (Date.now() > deadline) throw new Error(`not healthy after ${seconds} s: ${unhealthy.join(", ")}`);
        await sleep(3000);
    }
}

function load(): SteadyLoad {
    return new SteadyLoad({ baseUrl, ca, servername: "localhost", concurrency: 8, requests: steadyMix }).start();
}

/** The phases a restore prints: stop, restore step, the service healthy again. */
const phases = (r: OpsRun) => {
    const n = (re: RegExp) => re.exec(r.stdout)?.[1] ?? "?";
    return `stop ${n(/stopped in (\d+) s/)} s, step ${n(/restore step done in (\d+) s/)} s, healthy ${n(/(?:grafana|prometheus)\S* is healthy after (\d+) s/)} s`;
};

const describeErrors = (r: LoadReport) =>
    [...Object.entries(r.statuses).filter(([s]) => !s.startsWith("2")), ...Object.entries(r.errors)].map(([k, v]) => `${k}×${v}`).join(" ") || "-";

describe("the operator's verbs on a real engine", () => {
    beforeAll(async () => {
        // Never skipped: the test command starts the engine (scripts/docker-engine.sh).
        if (!engineAnswers()) throw new Error("no Docker engine answers: the test command starts one (scripts/docker-engine.sh)");
        tmp = makeTempDir("ops-engine");
        const started = Date.now();
        platform = await deployForOps({ stack });
        console.log(`opsEngine: stack ${platform.stack} deployed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
        for (const id of Object.values(platform.containers)) {
            const [service, name] = inspect(id, '{{index .Config.Labels "clinicalbdd.service"}} {{.Name}}').split(" ");
            (names[service] ??= []).push(name.replace(/^\//, ""));
        }
        for (const list of Object.values(names)) list.sort();
        const job = one("backup");
        jobImage = inspect(job, "{{.Image}}");
        grafanaVolume = inspect(one("grafana"), '{{range .Mounts}}{{if eq .Destination "/var/lib/grafana"}}{{.Name}}{{end}}{{end}}');
        prometheusUrl = `http://${published(one("prometheus"), "9090/tcp")}`;
        grafanaUrl = `http://${published(one("grafana"), "3000/tcp")}`;
        const alertmanagerUrl = `http://${published(one("alertmanager"), "9093/tcp")}`;
        const health = new URL(platform.healthUrl);
        baseUrl = health.origin;
        ca = execFileSync("sh", ["-c", `openssl s_client -connect 127.0.0.1:${health.port || 443} -servername localhost </dev/null 2>/dev/null | openssl x509`], { encoding: "utf8" });
        const bin = path.join(tmp.dir, "bin");
        fs.mkdirSync(bin);
        writePulumiStandIn(bin, {
            healthUrl: platform.healthUrl,
            appUrl: `${baseUrl}/`,
            grafanaUrl: `${grafanaUrl}/`,
            prometheusUrl: `${prometheusUrl}/`,
            alertmanagerUrl: `${alertmanagerUrl}/`,
            replicas: String(names.app?.length ?? 0),
        });
        env = {
            PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
            PULUMI_BACKEND_URL: "file:///nonexistent-state",
            PULUMI_CONFIG_PASSPHRASE_FILE: "/nonexistent-passphrase",
            OPS_HEALTH_WAIT_SECONDS: "240",
        };
    });

    afterAll(async () => {
        const pad = (s: string | number, n: number) => String(s).padEnd(n);
        console.log(
            [
                `opsEngine figures (stack ${stack}; steady load: 8 clients, GET /health and POST /api/v1/analyze through nginx over TLS)`,
                `  ${pad("restart verb", 34)}${pad("seconds", 9)}${pad("requests", 10)}${pad("failed", 8)}errors`,
                ...restartFigures.map((f) => `  ${pad(f.verb, 34)}${pad(f.seconds.toFixed(1), 9)}${pad(f.requests, 10)}${pad(f.failed, 8)}${f.errors}`),
                `  ${pad("restore", 44)}${pad("seconds", 9)}${pad("outcome", 52)}data checked`,
                ...restoreFigures.map((f) => `  ${pad(f.what, 44)}${pad(f.seconds.toFixed(1), 9)}${pad(f.outcome, 52)}${f.checked}`),
            ].join("\n"),
        );
        for (const leftover of docker(["ps", "-aq", "--filter", `name=clinicalbdd-restore-${stack}-`]).split("\n").filter(Boolean)) docker(["rm", "-f", leftover]);
        await platform?.destroy();
        tmp?.cleanup();
    });

    let backupTime = 0;
    let promSamples: number | undefined;
    const promQueryText = 'count_over_time(up{job="prometheus"}[10m])';

    test("backup: a checksummed archive of Grafana and of Prometheus now, in the job's archives", async () => {
        addMarker("before-backup");
        // Some scrapes of its own first, so the snapshot holds samples worth finding.
        for (let i = 0; i < 60 && ((await promQuery("up", Date.now() / 1000).catch(() => undefined)) ?? 0) === 0; i++) await sleep(1000);
        backupTime = Math.floor(Date.now() / 1000);
        promSamples = await promQuery(promQueryText, backupTime);
        expect(promSamples).toBeGreaterThan(0);
        const r = await ops(["backup"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/grafana: wrote[\s\S]*prometheus: wrote[\s\S]*backup: done/) });
        const listing = inArchives("cd /backups && ls grafana prometheus && (cd grafana && sha256sum --quiet -c *.sha256) && (cd prometheus && sha256sum --quiet -c *.sha256) && echo checksums-ok");
        expect(listing).toMatch(/grafana-\d{8}T\d{6}Z\.tar\.gz/);
        expect(listing).toMatch(/prometheus-\d{8}T\d{6}Z\.tar\.gz/);
        expect(listing).toMatch(/checksums-ok$/);
    });

    test("status: every container healthy and the four endpoints answering, exit 0", async () => {
        await waitAllHealthy(240);
        const r = await ops(["status"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        for (const name of Object.values(names).flat()) expect(r.stdout).toMatch(new RegExp(`${name}\\s+Up .*\\(healthy\\)`));
        for (const check of ["app-health", "prometheus", "grafana", "alertmanager"]) expect(r.stdout).toMatch(new RegExp(`${check}\\s+\\S+\\s+200 in`));
        expect(r.stdout).toMatch(/status: everything is up and healthy/);
    });

    test("logs app: each replica's own lines, found by the stack and service labels", async () => {
        const r = await ops(["logs", "app", "--since", "30m"]);
        expect(r.code).toBe(0);
        for (const name of names.app) expect(r.stdout).toMatch(new RegExp(`==> ${name} \\(since 30m\\) <==\\n\\d{4}-\\d\\d-\\d\\dT\\S+ \\S`));
        const nginx = await ops(["logs", "nginx", "--since", "30m"]);
        expect({ code: nginx.code, header: nginx.stdout.split("\n")[0] }).toEqual({ code: 0, header: `==> ${one("nginx")} (since 30m) <==` });
    });

    // Each restart runs while 8 clients send requests through the front door without pause.
    // Services behind the front door are restarted together, one verb each, so the suite
    // costs one healthcheck wait per group rather than per service.
    const restarts: [string, string[][], boolean][] = [
        ["app", [["app"]], true],
        ["nginx", [["nginx"]], true],
        ["prometheus --reload", [["prometheus", "--reload"]], true],
        ["prometheus, alertmanager, grafana", [["prometheus"], ["alertmanager"], ["grafana"]], true],
        ["the exporters, cadvisor and backup", [["node-exporter"], ["nginx-exporter"], ["blackbox-exporter"], ["cadvisor"], ["backup"]], true],
        // The only one that drops connections, and says so: counted, not held to zero.
        ["nginx --hard", [["nginx", "--hard"]], false],
    ];
    test.each(restarts)("restart %s under steady load", async (_label, verbs, zeroFailed) => {
        for (const [service] of verbs) if (!names[service]) throw new Error(`no ${service} container in the deployed stack`);
        const before = Object.fromEntries(verbs.flatMap(([service]) => names[service]).map((n) => [n, inspect(n, "{{.State.StartedAt}}")]));
        const traffic = load();
        await sleep(1500);
        const runs = await Promise.all(verbs.map((args) => ops(["restart", ...args])));
        await sleep(1500);
        const report = await traffic.stop();
        verbs.forEach((args, i) =>
            restartFigures.push({ verb: `restart ${args.join(" ")}`, seconds: runs[i].seconds, requests: report.ok + report.failed, failed: report.failed, errors: describeErrors(report) }),
        );
        verbs.forEach(([service, ...flags], i) => {
            const r = runs[i];
            expect({ service, code: r.code, stderr: r.stderr }).toEqual({ service, code: 0, stderr: "" });
            const reloaded = flags.includes("--reload") || (service === "nginx" && !flags.includes("--hard"));
            for (const name of names[service]) {
                // A reload keeps the container (same start time); a restart starts it anew.
                expect({ name, restarted: inspect(name, "{{.State.StartedAt}}") !== before[name] }).toEqual({ name, restarted: !reloaded });
            }
            if (service === "nginx") expect(r.stdout).toMatch(reloaded ? /reloaded gracefully[\s\S]*new workers/ : /--hard: nginx is the only front door; every connection to it fails/);
        });
        expect(report.ok).toBeGreaterThan(0);
        if (zeroFailed) expect({ failed: report.failed, failures: report.failures }).toEqual({ failed: 0, failures: [] });
    });

    test("restore latest --service grafana: the data of the backup are back, what came after is gone, Grafana and the job run", async () => {
        await waitAllHealthy(240);
        addMarker("after-backup");
        expect(markers()).toEqual(["before-backup", "after-backup"]);
        const r = await ops(["restore", "latest", "--service", "grafana", "--yes"]);
        restoreFigures.push({ what: "restore latest --service grafana", seconds: r.seconds, outcome: r.code === 0 ? `restored (${phases(r)})` : `exit ${r.code}`, checked: "marker rows in grafana.db; admin login via /api/user" });
        // restore.sh's own lines (checksum verified, restored into …) come on stderr.
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/verified[\s\S]*restore: grafana: restored grafana-\S+ into \/data\/grafana/) });
        expect(r.stdout).toMatch(/restore: restored grafana from grafana-\d{8}T\d{6}Z\.tar\.gz\n$/);
        expect(markers()).toEqual(["before-backup"]);
        expect(states()[one("grafana")]).toBe("running");
        expect(states()[one("backup")]).toBe("running");
        // The restored database still holds the admin user the deployment set up.
        const password = docker(["exec", one("grafana"), "cat", "/etc/grafana/secrets/admin_password"]);
        const user = await fetch(`${grafanaUrl}/api/user`, { headers: { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` } });
        expect(user.status).toBe(200);
    });

    test("restore latest --service prometheus: the samples up to the backup are back, and Prometheus serves them", async () => {
        const r = await ops(["restore", "latest", "--service", "prometheus", "--yes"]);
        restoreFigures.push({ what: "restore latest --service prometheus", seconds: r.seconds, outcome: r.code === 0 ? `restored (${phases(r)})` : `exit ${r.code}`, checked: `${promQueryText} at the backup time: ${promSamples}` });
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/verified[\s\S]*restore: prometheus: restored prometheus-\S+ into \/data\/prometheus/) });
        expect(r.stdout).toMatch(/restore: restored prometheus from prometheus-\d{8}T\d{6}Z\.tar\.gz\n$/);
        expect(await promQuery(promQueryText, backupTime)).toBe(promSamples);
        expect(states()[one("prometheus")]).toBe("running");
        expect(states()[one("backup")]).toBe("running");
    });

    test("a corrupted archive is refused before anything is stopped", async () => {
        const latest = inArchives("ls -1 /backups/grafana/grafana-*.tar.gz | sort | tail -n 1");
        const corrupt = "grafana-20000101T000000Z.tar.gz";
        inArchives(
            `cd /backups/grafana && cp ${path.basename(latest)} ${corrupt} && printf '\\xff\\xff\\xff\\xff' | dd of=${corrupt} bs=1 seek=40 conv=notrunc status=none && sed "s/ .*/  ${corrupt}/" ${path.basename(latest)}.sha256 > ${corrupt}.sha256`,
        );
        const startedBefore = [one("grafana"), one("backup")].map((n) => inspect(n, "{{.State.StartedAt}}"));
        try {
            const r = await ops(["restore", corrupt, "--yes"]);
            restoreFigures.push({ what: "restore of a corrupted archive", seconds: r.seconds, outcome: `refused (exit ${r.code}), nothing stopped`, checked: "start times of Grafana and the job unchanged" });
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(/checksum mismatch for grafana-20000101T000000Z\.tar\.gz[\s\S]*cannot be restored \(above\): nothing was touched/);
            expect([one("grafana"), one("backup")].map((n) => inspect(n, "{{.State.StartedAt}}"))).toEqual(startedBefore);
        } finally {
            inArchives(`rm -f /backups/grafana/${corrupt} /backups/grafana/${corrupt}.sha256`);
        }
    });

    test("a write refused part way (as on a full disk): Grafana and the job run again, its data unchanged, the retry command given", async () => {
        addMarker("before-failed-restore");
        const expected = markers();
        // A file-size limit on the restore step below grafana.db's size: tar's write fails mid-file.
        const r = await ops(["restore", "latest", "--service", "grafana", "--yes"], { OPS_RESTORE_DOCKER_ARGS: "--ulimit fsize=2048:2048" });
        restoreFigures.push({ what: "restore, a write refused part way", seconds: r.seconds, outcome: `failed (exit ${r.code}), all running`, checked: "marker rows unchanged" });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/unpacking grafana-\S+ failed[\s\S]*NOT done: grafana is not restored from grafana-\S+; its data are unchanged/);
        expect(r.stderr).toMatch(/every container this verb stopped is running again: \S+ \S+\n.*retry with: npm run restore -- grafana-\d{8}T\d{6}Z\.tar\.gz --service grafana --stack \S+ --yes/);
        expect([states()[one("grafana")], states()[one("backup")]]).toEqual(["running", "running"]);
        expect(markers()).toEqual(expected);
    });

    /** Starts a restore slowed down (2 % of a CPU), and once its restore step's container runs, calls `interrupt`. */
    async function interruptedRestore(interrupt: (verb: ReturnType<typeof startOps>, container: string) => void): Promise<OpsRun> {
        const verb = startOps(["restore", "latest", "--service", "grafana", "--yes", "--stack", stack], { ...env, OPS_RESTORE_DOCKER_ARGS: "--cpus 0.02" });
        let container = "";
        for (let i = 0; i < 600 && !container; i++) {
            container = docker(["ps", "-q", "--filter", `name=clinicalbdd-restore-${stack}-grafana-`, "--filter", "status=running"]);
            if (!container) await sleep(100);
        }
        if (!container) throw new Error(`the restore step never ran; the verb said: ${(await verb.done).stderr}`);
        await sleep(300);
        interrupt(verb, container);
        return verb.done;
    }

    test("the restore step killed part way: Grafana and the job run again, and the printed retry restores", async () => {
        const r = await interruptedRestore((_verb, container) => docker(["kill", container]));
        restoreFigures.push({ what: "restore, its step killed (docker kill)", seconds: r.seconds, outcome: `failed (exit ${r.code}), all running`, checked: "after the retry: marker rows of the backup" });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/NOT done: grafana is not restored from grafana-\S+: the restore step ended with code 137 part way/);
        expect([states()[one("grafana")], states()[one("backup")]]).toEqual(["running", "running"]);
        const retry = /retry with: npm run restore -- (.*)$/m.exec(r.stderr)?.[1].split(" ") ?? [];
        expect(retry).toContain("--yes");
        // npm run restore -- <args> is cli/main.ts restore <args>.
        const again = await ops(["restore", ...retry.filter((a, i, all) => a !== "--stack" && all[i - 1] !== "--stack")]);
        restoreFigures.push({ what: "the retry it printed", seconds: again.seconds, outcome: again.code === 0 ? "restored" : `exit ${again.code}`, checked: "marker rows of the backup" });
        expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/restore: restored grafana from grafana-\S+\n$/) });
        expect(markers()).toEqual(["before-backup"]);
    });

    test("the verb itself stopped (SIGTERM) part way: it stops its step, which puts the old data back, then starts Grafana and the job", async () => {
        addMarker("before-stopped-restore");
        const expected = markers();
        const r = await interruptedRestore((verb) => verb.child.kill("SIGTERM"));
        restoreFigures.push({ what: "restore, the verb stopped (SIGTERM)", seconds: r.seconds, outcome: `stopped (exit ${r.code}), all running`, checked: "marker rows unchanged" });
        expect(r.code).toBe(143);
        expect(r.stderr).toMatch(/stopped by a signal[\s\S]*NOT done: grafana is not restored from grafana-\S+; its data are unchanged/);
        expect([states()[one("grafana")], states()[one("backup")]]).toEqual(["running", "running"]);
        expect(markers()).toEqual(expected);
        expect(docker(["ps", "-aq", "--filter", `name=clinicalbdd-restore-${stack}-`])).toBe("");
    });
});
