/**
 * The operator's verbs (cli/) against a stack on a real single-node Swarm (`docker
 * swarm init` of the test command's own engine when it is not in one already), found by the
 * engine alone (no Pulumi CLI; `pulumi` is a stand-in that only answers stack outputs, for
 * status): status with every service running and with one that cannot be scheduled, logs
 * of every app task, a rolling restart of the app under steady HTTPS load through the front
 * door (failed requests counted), --hard refused, backup then restore of Grafana (a marker
 * row in grafana.db written before the backup is back, one written after it is gone), a
 * corrupted archive refused with nothing scaled down, and a restore stopped by SIGTERM part
 * way that leaves Grafana and the backup job scaled back to one task. Figures at the end.
 */
import * as fs from "fs";
import * as path from "path";
import { LoadReport, SteadyLoad, steadyMix } from "./engine/load";
import { Deployment } from "./engine/deployment";
import { expectNoFailures, sleep } from "./engine/probes";
import { joinTestSwarm, swarmCertificate, SwarmNode, swarmTestDeployment } from "./engine/swarmNode";
import { docker, engineAnswers, OpsRun, startOps, writePulumiStandIn } from "./helpers/opsPlatform";
import { ProgramRun } from "./helpers/pulumiProgram";
import { makeTempDir } from "./helpers/tools";

jest.setTimeout(15 * 60_000);

const stack = `opsswarm${process.pid}`;
let node: SwarmNode | undefined;
let deployment: Deployment | undefined;
let httpsPort = 0;
let ca = "";
let tmp: ReturnType<typeof makeTempDir> | undefined;
let env: Record<string, string> = {};
let jobImage = "";
let grafanaVolume = "";
let archivesVolume = "";
const figures: string[] = [];

function ops(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<OpsRun> {
    return startOps([...args, "--stack", stack], { ...env, ...extraEnv }).done;
}
const figure = (label: string, r: OpsRun, extra = "") => figures.push(`${label.padEnd(46)}${r.seconds.toFixed(1).padStart(6)} s  exit ${r.code ?? r.signal}${extra ? `  ${extra}` : ""}`);

/** The Swarm service of a clinicalbdd.service label in this stack. */
function service(label: string): string {
    const names = docker(["service", "ls", "--quiet", "--filter", `label=clinicalbdd.stack=${stack}`, "--filter", `label=clinicalbdd.service=${label}`, "--format", "{{.Name}}"]);
    if (!names || names.includes("\n")) throw new Error(`expected one Swarm service labelled ${label} in stack ${stack}, found: ${names || "none"}`);
    return names;
}
const inspectService = (name: string, format: string) => docker(["service", "inspect", "-f", format, name]);
const mountSource = (name: string, target: string) => inspectService(name, `{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{if eq .Target "${target}"}}{{.Source}}{{end}}{{end}}`);
/** Desired replicas, tasks Running (healthy: Swarm says Running once the healthcheck passes), task containers running here. */
function tasks(name: string): { replicas: string; running: number; containers: number } {
    const states = docker(["service", "ps", name, "--filter", "desired-state=running", "--format", "{{.CurrentState}}"]).split("\n");
    return {
        replicas: inspectService(name, "{{.Spec.Mode.Replicated.Replicas}}"),
        running: states.filter((s) => s.startsWith("Running")).length,
        containers: docker(["ps", "--quiet", "--filter", `label=com.docker.swarm.service.name=${name}`]).split("\n").filter(Boolean).length,
    };
}

/** Runs sqlite3 on Grafana's database in a one-shot container of the backup image (it has sqlite3; the imitation Grafana keeps a real SQLite grafana.db). */
const grafanaSql = (sql: string) => docker(["run", "--rm", "--network", "none", "-v", `${grafanaVolume}:/g`, jobImage, "sqlite3", "/g/grafana.db", sql]);
const markers = () => grafanaSql("CREATE TABLE IF NOT EXISTS ops_marker (label TEXT); SELECT label FROM ops_marker ORDER BY rowid;").split("\n").filter((l) => l !== "");
const addMarker = (label: string) => grafanaSql(`CREATE TABLE IF NOT EXISTS ops_marker (label TEXT); INSERT INTO ops_marker VALUES ('${label}');`);
/** A shell command in the archives volume (as root). */
const inArchives = (script: string) => docker(["run", "--rm", "--network", "none", "-v", `${archivesVolume}:/backups`, jobImage, "bash", "-c", script]);

/** Until every service of the stack (but those named in `except`) runs all its tasks, each Running (healthy), none pending. */
async function converged(seconds: number, except: readonly string[] = []): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const pending: string[] = [];
        for (const line of docker(["service", "ls", "--filter", `label=clinicalbdd.stack=${stack}`, "--format", "{{.Name}} {{.Replicas}}"]).split("\n")) {
            const [name, replicas] = line.split(" ");
            if (except.includes(name)) continue;
            const [have, want] = replicas.split("/");
            const notRunning = docker(["service", "ps", name, "--filter", "desired-state=running", "--format", "{{.CurrentState}}"]).split("\n").filter((s) => !s.startsWith("Running"));
            if (have !== want || want === "0" || notRunning.length > 0) pending.push(`${name} ${replicas} ${notRunning.join(", ")}`);
        }
        if (pending.length === 0) return;
        if (Date.now() > deadline) throw new Error(`not converged after ${seconds} s: ${pending.join("; ")}`);
        await sleep(2000);
    }
}


const describeErrors = (r: LoadReport) =>
    [...Object.entries(r.statuses).filter(([s]) => !s.startsWith("2")), ...Object.entries(r.errors)].map(([k, v]) => `${k}×${v}`).join(" ") || "-";

beforeAll(async () => {
    // Never skipped: the test command starts the engine (scripts/docker-engine.sh).
    if (!engineAnswers()) throw new Error("no Docker engine answers: the test command starts one (scripts/docker-engine.sh)");
    // The image built first, then the Swarm joined and labelled: the shorter the time before this
    // stack's first service, the smaller the window in which another test file's release() finds
    // no service on the engine and takes the node's labels (or the Swarm) away.
    ({ deployment, httpsPort } = await swarmTestDeployment(stack));
    node = joinTestSwarm(stack);
    const started = Date.now();
    await deployment.up(await deployment.program());
    const run = deployment.current as ProgramRun;
    ca = swarmCertificate(run);
    tmp = makeTempDir("ops-swarm");
    const bin = path.join(tmp.dir, "bin");
    fs.mkdirSync(bin);
    const outputs = Object.fromEntries(
        Object.entries(run.outputs)
            .filter(([, o]) => !o.secret && (typeof o.value === "string" || typeof o.value === "number"))
            .map(([k, o]) => [k, String(o.value)]),
    );
    writePulumiStandIn(bin, outputs);
    env = {
        PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        PULUMI_BACKEND_URL: "file:///nonexistent-state",
        PULUMI_CONFIG_PASSPHRASE_FILE: "/nonexistent-passphrase",
        OPS_HEALTH_WAIT_SECONDS: "240",
    };
    const job = service("backup");
    jobImage = inspectService(job, "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
    grafanaVolume = mountSource(service("grafana"), "/var/lib/grafana");
    archivesVolume = mountSource(job, "/backups");
    // The backup job turns healthy (Running) only at its first healthcheck, a minute after it
    // starts: status waits for it, the tests before it need not.
    await converged(240, [job]);
    figures.push(`${"deployed and converged (but the backup job)".padEnd(46)}${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  healthUrl ${outputs.healthUrl}`);
});

afterAll(async () => {
    const started = Date.now();
    try {
        for (const leftover of docker(["ps", "-aq", "--filter", `name=clinicalbdd-restore-${stack}-`]).split("\n").filter(Boolean)) docker(["rm", "-f", leftover]);
    } finally {
        try {
            await deployment?.destroy();
            node?.release(stack);
            tmp?.cleanup();
        } finally {
            figures.push(`${"destroyed, the node released".padEnd(46)}${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`);
            console.log(`opsSwarmEngine figures (stack ${stack}; steady load: 8 clients, GET /health and POST /api/v1/analyze through the front door over TLS):\n  ${figures.join("\n  ")}`);
        }
    }
});

test("logs app: the lines of every app task, from Swarm's service logs, in time order", async () => {
    const app = service("app");
    const r = await ops(["logs", "app", "--since", "30m"]);
    figure("logs app --since 30m", r);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(`==> ${app} (since 30m, every task) <==`);
    for (const slot of [1, 2]) expect(r.stdout).toMatch(new RegExp(`\\n\\d{4}-\\d\\d-\\d\\dT\\S+Z ${app}\\.${slot}\\.\\w+@\\S+\\s+\\| .*gunicorn`));
    const stamps = r.stdout.split("\n").slice(1).filter(Boolean).map((l) => l.split(" ")[0]);
    expect(stamps).toEqual([...stamps].sort());
});

test("restart app under steady load: a rolling update of its tasks, waited for, 0 failed requests", async () => {
    const app = service("app");
    const before = docker(["service", "ps", app, "--quiet", "--filter", "desired-state=running"]).split("\n").sort();
    const load = new SteadyLoad({ baseUrl: `https://127.0.0.1:${httpsPort}`, ca, servername: "localhost", concurrency: 8, requests: steadyMix }).start();
    await sleep(1500);
    const r = await ops(["restart", "app"]);
    await sleep(1500);
    const report = await load.stop();
    figure("restart app (rolling, start-first)", r, `requests ${report.ok + report.failed}, ok ${report.ok}, failed ${report.failed} (${describeErrors(report)})`);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/app: each new task starts and turns healthy before its old one stops \(start-first\)/);
    expect(r.stdout).toMatch(new RegExp(`restart: app: 2 task\\(s\\) of ${app} replaced one at a time, converged and watched, in \\d+ s`));
    const after = docker(["service", "ps", app, "--quiet", "--filter", "desired-state=running"]).split("\n").sort();
    expect(after).toHaveLength(2);
    expect(after.filter((t) => before.includes(t))).toEqual([]);
    expectNoFailures(report);
});

test.each([["--hard"], ["--reload"]])("restart nginx %s is refused on Swarm with exit 2, and nothing is updated", async (flag) => {
    const nginx = service("nginx");
    const version = inspectService(nginx, "{{.Version.Index}}");
    const r = await ops(["restart", "nginx", flag]);
    figure(`restart nginx ${flag}`, r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`restart ${flag}: not on Swarm, where stack ${stack} runs: a task is never restarted or signalled in place`));
    expect(inspectService(nginx, "{{.Version.Index}}")).toBe(version);
});

test("status: every service of the stack listed with its tasks running, the front door answering, exit 0", async () => {
    const waited = Date.now();
    await converged(240);
    figures.push(`${"the backup job healthy too, waited".padEnd(46)}${((Date.now() - waited) / 1000).toFixed(1).padStart(6)} s`);
    const r = await ops(["status"]);
    figure("status", r);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const labels = docker(["service", "ls", "--quiet", "--filter", `label=clinicalbdd.stack=${stack}`, "--format", "{{.Name}}"])
        .split("\n")
        .map((name) => [inspectService(name, '{{index .Spec.Labels "clinicalbdd.service"}}'), name]);
    expect(labels.map(([label]) => label)).toEqual(expect.arrayContaining(["app", "nginx", "prometheus", "alertmanager", "grafana", "backup", "node-exporter", "cadvisor", "nginx-exporter", "blackbox-exporter"]));
    for (const [label, name] of labels) expect(r.stdout).toMatch(new RegExp(`\\n  ${label}\\s+${name}\\s+(\\d+)/\\1\\s`));
    expect(r.stdout).not.toMatch(/ ! /);
    expect(r.stdout).toMatch(/app-health\s+https:\/\/\S+\/health\s+200 in/);
    expect(r.stdout).toMatch(/status: everything is up and healthy/);
});

test("status: a service whose task cannot be scheduled is named, with Swarm's reason, and exit 1", async () => {
    const exporter = service("nginx-exporter");
    docker(["service", "update", "--detach", "--constraint-add", "node.labels.clinicalbdd.nowhere==true", exporter]);
    try {
        for (let i = 0; i < 30 && !docker(["service", "ps", exporter, "--format", "{{.CurrentState}}"]).includes("Pending"); i++) await sleep(500);
        const r = await ops(["status"]);
        figure("status, one task unschedulable", r);
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(new RegExp(`nginx-exporter\\s+${exporter}\\s.*\\n    ! task ${exporter}\\.1 is Pending .*no suitable node`));
        expect(r.stderr).toMatch(/status: 1 problem\(s\) above \(Swarm services: nginx-exporter\)/);
    } finally {
        // start-first: the old task ran on meanwhile; the spec as it was, nothing is replaced.
        docker(["service", "update", "--detach", "--constraint-rm", "node.labels.clinicalbdd.nowhere==true", exporter]);
    }
    await converged(60);
});

test("backup: backup.sh run in the backup job's task on this (the data) node: a checksummed archive of Grafana and of Prometheus", async () => {
    addMarker("before-backup");
    const r = await ops(["backup"]);
    figure("backup", r);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/grafana: wrote[\s\S]*prometheus: wrote[\s\S]*backup: done/) });
    expect(r.stdout).toMatch(new RegExp(`backing up Grafana and Prometheus now, in ${service("backup")}\\.1\\.`));
    const listing = inArchives("cd /backups && ls grafana prometheus && (cd grafana && sha256sum --quiet -c *.sha256) && (cd prometheus && sha256sum --quiet -c *.sha256) && echo checksums-ok");
    expect(listing).toMatch(/grafana-\d{8}T\d{6}Z\.tar\.gz/);
    expect(listing).toMatch(/prometheus-\d{8}T\d{6}Z\.tar\.gz/);
    expect(listing).toMatch(/checksums-ok$/);
});

test("restore latest --service grafana: Grafana and the job scaled to 0, the backup's data back, both scaled back to 1", async () => {
    addMarker("after-backup");
    expect(markers()).toEqual(["before-backup", "after-backup"]);
    const grafana = service("grafana");
    const job = service("backup");
    const r = await ops(["restore", "latest", "--service", "grafana", "--yes"]);
    const n = (re: RegExp) => re.exec(r.stdout)?.[1] ?? "?";
    figure("restore latest --service grafana", r, `scale to 0 ${n(/stopped in (\d+) s/)} s, step ${n(/restore step done in (\d+) s/)} s, Grafana healthy ${n(/dashboards-grafana is running and healthy \(1 task\(s\)\) after (\d+) s/)} s`);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/verified[\s\S]*restore: grafana: restored grafana-\S+ into \/data\/grafana/) });
    expect(r.stdout).toMatch(new RegExp(`\\+ docker service scale --detach ${grafana}=0 ${job}=0\\n`));
    expect(r.stdout).toMatch(new RegExp(`${grafana} is running and healthy \\(1 task\\(s\\)\\)[\\s\\S]*${job} is running`));
    expect(r.stdout).toMatch(/restore: restored grafana from grafana-\d{8}T\d{6}Z\.tar\.gz\n$/);
    expect(markers()).toEqual(["before-backup"]);
    expect(tasks(grafana)).toEqual({ replicas: "1", running: 1, containers: 1 });
    expect(tasks(job)).toMatchObject({ replicas: "1", containers: 1 });
});

test("a corrupted archive is refused before anything is scaled down", async () => {
    const latest = inArchives("ls -1 /backups/grafana/grafana-*.tar.gz | sort | tail -n 1");
    const corrupt = "grafana-20000101T000000Z.tar.gz";
    inArchives(
        `cd /backups/grafana && cp ${path.basename(latest)} ${corrupt} && printf '\\xff\\xff\\xff\\xff' | dd of=${corrupt} bs=1 seek=40 conv=notrunc status=none && sed "s/ .*/  ${corrupt}/" ${path.basename(latest)}.sha256 > ${corrupt}.sha256`,
    );
    const watched = [service("grafana"), service("backup")];
    const versions = watched.map((s) => inspectService(s, "{{.Version.Index}}"));
    try {
        const r = await ops(["restore", corrupt, "--yes"]);
        figure("restore of a corrupted archive", r, "refused; Grafana and the job not scaled (service versions unchanged)");
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/checksum mismatch for grafana-20000101T000000Z\.tar\.gz[\s\S]*cannot be restored \(above\): nothing was touched/);
        expect(r.stdout).not.toMatch(/docker service scale/);
        expect(watched.map((s) => inspectService(s, "{{.Version.Index}}"))).toEqual(versions);
    } finally {
        inArchives(`rm -f /backups/grafana/${corrupt} /backups/grafana/${corrupt}.sha256`);
    }
});

test("the verb stopped (SIGTERM) while its restore step runs: the step puts the old data back, Grafana and the job are scaled back to 1", async () => {
    addMarker("before-stopped-restore");
    const expected = markers();
    const grafana = service("grafana");
    const job = service("backup");
    // The restore step slowed down (2 % of a CPU), so the signal lands while it runs.
    const verb = startOps(["restore", "latest", "--service", "grafana", "--yes", "--stack", stack], { ...env, OPS_RESTORE_DOCKER_ARGS: "--cpus 0.02" });
    let step = "";
    for (let i = 0; i < 900 && !step; i++) {
        step = docker(["ps", "-q", "--filter", `name=clinicalbdd-restore-${stack}-grafana-`, "--filter", "status=running"]);
        if (!step) await sleep(100);
    }
    if (!step) throw new Error(`the restore step never ran; the verb said: ${(await verb.done).stderr}`);
    expect(tasks(grafana)).toMatchObject({ replicas: "0", containers: 0 });
    await sleep(300);
    verb.child.kill("SIGTERM");
    const r = await verb.done;
    figure("restore, the verb stopped (SIGTERM)", r, "Grafana and the job scaled back to 1, data unchanged");
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/stopped by a signal/);
    // A SIGTERM that reaches restore.sh while bash is parsing a command substitution can miss
    // its trap (bash's parser is not reentrant: "trap: line 2: unexpected EOF while looking for
    // matching `)'", seen once in four runs), and the step then finishes. Either way the verb
    // must say which happened, and the data must match what it says.
    if (/restore: done: restored grafana from grafana-\S+/.test(r.stderr)) {
        expect(markers()).toEqual(["before-backup"]);
    } else {
        expect(r.stderr).toMatch(/NOT done: grafana is not restored from grafana-\S+; its data are unchanged/);
        expect(r.stderr).toMatch(new RegExp(`every service this verb scaled to 0 runs again: ${grafana} ${job}\\n.*retry with: npm run restore -- grafana-\\d{8}T\\d{6}Z\\.tar\\.gz --service grafana --stack ${stack} --yes`));
        expect(markers()).toEqual(expected);
    }
    expect(r.stderr).toMatch(new RegExp(`every service this verb scaled to 0 runs again: ${grafana} ${job}`));
    expect(tasks(grafana)).toEqual({ replicas: "1", running: 1, containers: 1 });
    expect(tasks(job)).toMatchObject({ replicas: "1", containers: 1 });
    expect(docker(["ps", "-aq", "--filter", `name=clinicalbdd-restore-${stack}-`])).toBe("");
});
