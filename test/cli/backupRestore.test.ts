/**
 * backup and restore (cli/backup.ts, cli/restore.ts) against the recording engine double, on
 * one host and on Swarm: the plans compared exactly; the restore verified before anything
 * stops; on every failure and on a signal, what it stopped started again, the summary and
 * the retry command printed.
 */
import { backup, backupPlan } from "../../cli/backup";
import { restore, Signals } from "../../cli/restore";
import { oneShot, parseExtraArgs, parseRestoreArgs, restorePlan, RestoreSources } from "../../cli/restorePlan";
import { runCommand } from "../../cli/plan";
import { FakeEngine, hostEngine, runVerbIn, swarmEngine } from "../helpers/fakeEngine";

/** Signals the test delivers itself. */
function testSignals(): Signals & { send(code: number): void } {
    let handler: ((code: number) => void) | undefined;
    return { listen: (h) => ((handler = h), () => (handler = undefined)), send: (code) => handler?.(code) };
}

const runRestore = (engine: FakeEngine, args: string[], opts = {}, signals = testSignals(), extraArgs?: string) =>
    runVerbIn("restore", (ctx) => restore(ctx, args, { engine, signals, id: 4242, extraArgs }), opts);
/** The calls that change something (look-ups and the read-only one-shot containers left out). */
const changing = (e: FakeEngine) => e.calls.filter((c) => /^(stop|start|exec|service-scale|rm) /.test(c) || (c.startsWith("docker run") && !/:ro -v/.test(c)));

const hostSources: RestoreSources = {
    job: "backups-job-1f2e3d4",
    target: "dashboards-grafana-4c5d6e7",
    image: "sha256:0123456789abcdef",
    dataSource: "clinical-bdd-creator-prod-grafana-data",
    archiveSource: "clinical-bdd-creator-prod-backups",
};
const oneShotLine = (mode: string, volume = "clinical-bdd-creator-prod-grafana-data", backups = "clinical-bdd-creator-prod-backups") =>
    `--rm --label clinicalbdd.ops=restore --network none --user 0:0 --security-opt no-new-privileges --cap-drop ALL --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER --cap-add FSETID -v ${volume}:/data/grafana:${mode} -v ${backups}:/backups:ro sha256:0123456789abcdef`;
const archive = "/backups/grafana/grafana-20261128T200000Z.tar.gz";

describe("backup", () => {
    test("the plan: backup.sh in the job, waiting for a scheduled run", () => {
        expect(backupPlan("job")).toEqual([{ kind: "exec", container: "job", env: { BACKUP_LOCK_WAIT_SECONDS: "600" }, command: ["/usr/local/bin/backup.sh"] }]);
    });

    test("one host: backup.sh in the backup job's container now, then the newest archives listed", async () => {
        const e = hostEngine();
        const r = await runVerbIn("backup", (ctx) => backup(ctx, [], e));
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "backup: done\n" });
        expect(changing(e)).toEqual(["exec -e BACKUP_LOCK_WAIT_SECONDS=600 backups-job-1f2e3d4 /usr/local/bin/backup.sh", expect.stringMatching(/^exec backups-job-1f2e3d4 sh -c ls -1t/)]);
        expect(r.stdout).toMatch(/backing up Grafana and Prometheus now, in backups-job-1f2e3d4\n\+ docker exec -e BACKUP_LOCK_WAIT_SECONDS=600 backups-job-1f2e3d4 \/usr\/local\/bin\/backup\.sh\n\/backups\/grafana\/grafana-20261128T200000Z\.tar\.gz/);
    });

    test("one host: the job stopped is said, with how to start it; a failing backup.sh fails the verb", async () => {
        const e = hostEngine();
        e.containerList.find((c) => c.service === "backup")!.state = "exited";
        const r = await runVerbIn("backup", (ctx) => backup(ctx, [], e));
        expect({ code: r.code, stderr: r.stderr, changed: changing(e) }).toEqual({
            code: 1, stderr: "backup: the backup job backups-job-1f2e3d4 is not running (exited): start it with docker start backups-job-1f2e3d4, then npm run backup\n", changed: [],
        });
        const f = hostEngine();
        f.execExit = 3;
        expect((await runVerbIn("backup", (ctx) => backup(ctx, [], f))).stderr).toMatch(/backup\.sh failed in backups-job-1f2e3d4 \(exit 3, above\)/);
    });

    test("Swarm: backup.sh in the job's task container on this node; none here says where to run it", async () => {
        const e = swarmEngine();
        expect((await runVerbIn("backup", (ctx) => backup(ctx, [], e))).code).toBe(0);
        expect(changing(e)[0]).toBe("exec -e BACKUP_LOCK_WAIT_SECONDS=600 prod-backups-job.1.xyz /usr/local/bin/backup.sh");
        const off = swarmEngine();
        off.replicas["prod-backups-job"] = 0;
        expect((await runVerbIn("backup", (ctx) => backup(ctx, [], off))).stderr).toMatch(/no running task of prod-backups-job on this node: run this on the node labelled clinicalbdd\.data=true/);
    });

    test("no engine: says how to start one; arguments refused", async () => {
        const e = hostEngine();
        e.down = true;
        expect((await runVerbIn("backup", (ctx) => backup(ctx, [], e))).stderr).toMatch(/^backup: no Docker engine answers/);
        expect(await runVerbIn("backup", (ctx) => backup(ctx, ["now"], hostEngine()))).toMatchObject({ code: 2, stderr: expect.stringMatching(/backup takes no arguments/) });
    });
});

describe("restore: arguments and plans", () => {
    test.each([
        [[], /restore needs an archive name/],
        [["latest"], /give --service grafana\|prometheus/],
        [["x.tar.gz", "--service", "nginx"], /--service is grafana or prometheus, got 'nginx'/],
        [["a", "b"], /one archive at a time/],
        [["a", "--force"], /unknown option --force/],
        [["latest", "--service"], /--service needs grafana or prometheus/],
    ])("%j is refused", (args, message) => {
        expect(() => parseRestoreArgs(args as string[])).toThrow(message as RegExp);
    });

    test("the service from the archive's name", () => {
        expect(parseRestoreArgs(["/backups/prometheus/prometheus-1.tar.gz"])).toEqual({ archive: "/backups/prometheus/prometheus-1.tar.gz", service: "prometheus" });
        expect(parseRestoreArgs(["latest", "--service=grafana"])).toEqual({ archive: "latest", service: "grafana" });
    });

    test("OPS_RESTORE_DOCKER_ARGS: --ulimit and --cpus, nothing else", () => {
        expect(parseExtraArgs("--ulimit fsize=2048:2048 --cpus 0.02")).toEqual({ ulimits: [{ Name: "fsize", Soft: 2048, Hard: 2048 }], nanoCpus: 20_000_000 });
        expect(parseExtraArgs(undefined)).toEqual({});
        expect(() => parseExtraArgs("--privileged")).toThrow(/only --ulimit name=soft:hard and --cpus N are understood/);
        expect(runCommand(oneShot(hostSources, "grafana", "rw", ["true"], parseExtraArgs("--cpus=0.5")))).toContain("--cpus 0.5 -v");
    });

    test("one host: stop the running ones, the step with the volume writable, start the service, then the job", () => {
        const plan = restorePlan("docker", hostSources, "grafana", archive, { name: "step" }, { running: ["dashboards-grafana-4c5d6e7"] });
        expect(plan).toEqual([
            { kind: "stop", containers: ["dashboards-grafana-4c5d6e7"] },
            { kind: "run", spec: oneShot(hostSources, "grafana", "rw", ["/usr/local/bin/restore.sh", archive, "--service", "grafana"], {}, "step") },
            { kind: "start", container: "dashboards-grafana-4c5d6e7" },
            { kind: "start", container: "backups-job-1f2e3d4" },
        ]);
        expect(runCommand((plan[1] as { spec: Parameters<typeof runCommand>[0] }).spec)).toBe(`docker run --name step ${oneShotLine("rw")} /usr/local/bin/restore.sh ${archive} --service grafana`);
    });

    test("Swarm: both scaled to 0, the step, the service scaled back, then the job", () => {
        const s = { ...hostSources, job: "j", target: "t" };
        expect(restorePlan("swarm", s, "grafana", archive, { name: "step" }, { replicas: { t: 1, j: 2 } }).map((p) => p.kind === "run" ? "run" : p)).toEqual([
            { kind: "service-scale", scales: [{ service: "t", replicas: 0 }, { service: "j", replicas: 0 }] },
            "run",
            { kind: "service-scale", scales: [{ service: "t", replicas: 1 }] },
            { kind: "service-scale", scales: [{ service: "j", replicas: 2 }] },
        ]);
    });
});

describe("restore on one host", () => {
    test("verified first in a one-shot container, then stop, restore with the volume writable, the service healthy, then the job", async () => {
        const e = hostEngine();
        const r = await runRestore(e, ["grafana-20261128T200000Z.tar.gz"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        const verify = e.calls.indexOf(`docker run ${oneShotLine("ro")} /usr/local/bin/restore.sh --check ${archive} --service grafana`);
        expect(verify).toBeGreaterThan(-1);
        expect(changing(e)).toEqual([
            "stop dashboards-grafana-4c5d6e7",
            "stop backups-job-1f2e3d4",
            `docker run --name clinicalbdd-restore-prod-grafana-4242 ${oneShotLine("rw")} /usr/local/bin/restore.sh ${archive} --service grafana`,
            "start dashboards-grafana-4c5d6e7",
            "start backups-job-1f2e3d4",
        ]);
        expect(verify).toBeLessThan(e.calls.indexOf("stop dashboards-grafana-4c5d6e7"));
        expect(e.calls.filter((c) => c.startsWith("exec "))).toEqual([]);
        expect(r.stdout).toMatch(/\[1\/4\][\s\S]*\+ docker stop dashboards-grafana-4c5d6e7 backups-job-1f2e3d4\n[\s\S]*stopped in \d+ s[\s\S]*\[2\/4\][\s\S]*restore step done in \d+ s\n[\s\S]*\[3\/4\][\s\S]*dashboards-grafana-4c5d6e7 is healthy after[\s\S]*backups-job-1f2e3d4 is running\nrestore: restored grafana from grafana-20261128T200000Z\.tar\.gz\n$/);
    });

    test("latest --service prometheus --dry-run picks the newest archive and changes nothing", async () => {
        const e = hostEngine();
        const r = await runRestore(e, ["latest", "--service", "prometheus"], { dryRun: true });
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/would run: docker run --name clinicalbdd-restore-prod-prometheus-4242 .* \/usr\/local\/bin\/restore\.sh \/backups\/prometheus\/prometheus-20261128T190000Z\.tar\.gz --service prometheus/);
        expect(changing(e)).toEqual([]);
    });

    test("works with the backup job stopped (it is started again afterwards)", async () => {
        const e = hostEngine();
        e.containerList.find((c) => c.service === "backup")!.state = "exited";
        const r = await runRestore(e, ["latest", "--service", "grafana"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(changing(e).filter((c) => !c.startsWith("docker run"))).toEqual(["stop dashboards-grafana-4c5d6e7", "start dashboards-grafana-4c5d6e7", "start backups-job-1f2e3d4"]);
    });

    test.each([
        ["fails with the data unchanged", 1, /NOT done: grafana is not restored from grafana-20261128T200000Z\.tar\.gz; its data are unchanged/],
        ["is killed part way", 137, /NOT done: grafana is not restored from grafana-20261128T200000Z\.tar\.gz: the restore step ended with code 137 part way, so its data may be part old, part new; restore again now/],
    ])("a step that %s: Grafana and the job started again, the retry given", async (_what, code, message) => {
        const e = hostEngine();
        e.runExit["restore.sh"] = code;
        const r = await runRestore(e, ["grafana-20261128T200000Z.tar.gz"]);
        expect(r.code).toBe(1);
        expect(changing(e).slice(-2)).toEqual(["start dashboards-grafana-4c5d6e7", "start backups-job-1f2e3d4"]);
        expect(r.stderr).toMatch(new RegExp(`^restore: the restore step failed \\(code ${code}, above\\)`));
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/every container this verb stopped is running again: dashboards-grafana-4c5d6e7 backups-job-1f2e3d4\n.*retry with: npm run restore -- grafana-20261128T200000Z\.tar\.gz --service grafana --stack prod --yes\n$/);
    });

    test("a signal while the step runs: the step stopped first, then both started, exit 143", async () => {
        const e = hostEngine();
        const signals = testSignals();
        e.duringRestore = async () => {
            signals.send(143);
            await new Promise((r) => setTimeout(r, 5));
        };
        e.runExit["restore.sh"] = 1;
        const r = await runRestore(e, ["grafana-20261128T200000Z.tar.gz"], {}, signals);
        expect(r.code).toBe(143);
        expect(e.calls).toContain("stop clinicalbdd-restore-prod-grafana-4242 -t 60");
        expect(changing(e).slice(-2)).toEqual(["start dashboards-grafana-4c5d6e7", "start backups-job-1f2e3d4"]);
        expect(r.stderr).toMatch(/stopped by a signal[\s\S]*NOT done: grafana is not restored from grafana-\S+; its data are unchanged\n.*every container this verb stopped is running again/);
    });

    test("a container that does not come back healthy is reported", async () => {
        const e = hostEngine();
        e.healthSequence["dashboards-grafana-4c5d6e7"] = ["unhealthy"];
        const r = await runRestore(e, ["grafana-20261128T200000Z.tar.gz"]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/done: restored grafana from grafana-20261128T200000Z\.tar\.gz\n.*some container is not healthy \(above\): check npm run status/);
    });

    test("a bad checksum is refused and nothing is stopped", async () => {
        const e = hostEngine();
        e.runExit["--check"] = 1;
        const r = await runRestore(e, ["grafana-20261128T200000Z.tar.gz"]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/checksum mismatch[\s\S]*grafana-20261128T200000Z\.tar\.gz cannot be restored \(above\): nothing was touched\n$/);
        expect(changing(e)).toEqual([]);
    });

    test("a service not mounting the volume the job backs up is refused and nothing is stopped", async () => {
        const e = hostEngine();
        e.mounts["metrics-prometheus-2b3c4d5"] = { "/prometheus": "some-other-volume" };
        const r = await runRestore(e, ["latest", "--service", "prometheus"]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/metrics-prometheus-2b3c4d5 does not mount clinical-bdd-creator-prod-prometheus-data, the volume the backup job backs up as prometheus: nothing was touched/);
        expect(changing(e)).toEqual([]);
    });

    test("no archive yet: nothing touched", async () => {
        const e = hostEngine();
        e.archives.grafana = "";
        expect((await runRestore(e, ["latest", "--service", "grafana"])).stderr).toMatch(/no grafana archive in the backup location \(clinical-bdd-creator-prod-backups\); nothing was touched/);
        expect(changing(e)).toEqual([]);
    });
});

describe("restore on Swarm", () => {
    test("verified, Grafana and the job scaled to 0, restored in a one-shot container, Grafana scaled back (healthy), then the job", async () => {
        const e = swarmEngine();
        const r = await runRestore(e, ["grafana-20261128T200000Z.tar.gz"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(e.calls).toContain(`docker run ${oneShotLine("ro", "prod-grafana-data", "prod-backups")} /usr/local/bin/restore.sh --check ${archive} --service grafana`);
        expect(changing(e)).toEqual([
            "service-scale prod-dashboards-grafana=0",
            "service-scale prod-backups-job=0",
            `docker run --name clinicalbdd-restore-prod-grafana-4242 ${oneShotLine("rw", "prod-grafana-data", "prod-backups")} /usr/local/bin/restore.sh ${archive} --service grafana`,
            "service-scale prod-dashboards-grafana=1",
            "service-scale prod-backups-job=1",
        ]);
        expect(r.stdout).toMatch(/\+ docker service scale --detach prod-dashboards-grafana=0 prod-backups-job=0\n/);
        expect(r.stdout).toMatch(/prod-dashboards-grafana is running and healthy \(1 task\(s\)\)[\s\S]*prod-backups-job is running \(1 task\(s\) started\)[\s\S]*restore: restored grafana from grafana-20261128T200000Z\.tar\.gz\n$/);
    });

    test("a step that fails scales both back and says what to retry", async () => {
        const e = swarmEngine();
        e.runExit["restore.sh"] = 137;
        const r = await runRestore(e, ["latest", "--service", "grafana"]);
        expect(r.code).toBe(1);
        expect(changing(e).slice(-2)).toEqual(["service-scale prod-dashboards-grafana=1", "service-scale prod-backups-job=1"]);
        expect(r.stderr).toMatch(/NOT done: grafana is not restored from grafana-20261128T200000Z\.tar\.gz: the restore step ended with code 137 part way/);
        expect(r.stderr).toMatch(/every service this verb scaled to 0 runs again: prod-dashboards-grafana prod-backups-job\n.*retry with: npm run restore -- grafana-20261128T200000Z\.tar\.gz --service grafana --stack prod --yes/);
    });

    test.each([
        ["a bad checksum", (e: FakeEngine) => void (e.runExit["--check"] = 1), "grafana", /cannot be restored \(above\): nothing was touched/],
        ["off the data node", (e: FakeEngine) => void (e.nodeLabels = {}), "grafana", /restore runs on the data node \(labelled clinicalbdd\.data=true\)[^\n]*this engine is node node1[^\n]*nothing was touched/],
        ["a service not mounting the job's volume", (e: FakeEngine) => void (e.mounts["prod-metrics-prometheus"] = { "/prometheus": "other" }), "prometheus", /prod-metrics-prometheus does not mount prod-prometheus-data/],
        ["no data volume on this node", (e: FakeEngine) => void (e.volumes = []), "grafana", /no volume prod-grafana-data on this node: is it the data node\? nothing was touched/],
    ])("refuses %s and scales nothing", async (_what, arrange, service, message) => {
        const e = swarmEngine();
        arrange(e);
        const r = await runRestore(e, ["latest", "--service", service]);
        expect({ code: r.code, changed: changing(e) }).toEqual({ code: 1, changed: [] });
        expect(r.stderr).toMatch(message);
    });
});
