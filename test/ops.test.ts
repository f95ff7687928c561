import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { makeTempDir } from "./helpers/tools";

/**
 * scripts/ops.sh, the operator's verbs, run for real against stand-ins of pulumi, docker and
 * curl that record every call and answer like a deployed stack: the tests check what each
 * verb runs, in which order, what it prints, and how it fails.
 */

const opsScript = path.join(__dirname, "..", "scripts", "ops.sh");

/** The stand-in stack: service, container name (as labelled), and health. */
const stackContainers = [
    ["alertmanager", "alerting-alertmanager-1a2b3c4"],
    ["app", "app-replica-0-5d6e7f8"],
    ["app", "app-replica-1-9a8b7c6"],
    ["backup", "backups-job-1f2e3d4"],
    ["grafana", "dashboards-grafana-4c5d6e7"],
    ["nginx", "front-door-nginx-7a8b9c0"],
    ["prometheus", "metrics-prometheus-2b3c4d5"],
];

const fakeDocker = `#!/bin/bash
echo "docker $*" >> "$OPS_CALLS"
containers='${stackContainers.map(([s, n]) => `${s} ${n}`).join("\n")}'
# Container states live in files beside the call log: stop/restart/start change them.
state() { cat "$OPS_CALLS.state.$1" 2>/dev/null || { [ "$1" = "$FAKE_STOPPED" ] && echo exited || echo running; }; }
case $1 in
  info) [ -z "$FAKE_DOCKER_DOWN" ] || exit 1 ;;
  ps)
    service=$(printf '%s\\n' "$@" | sed -n 's/^label=clinicalbdd.service=//p')
    wide=0; case "$*" in *'{{.State}}'*) wide=1 ;; esac
    printf '%s\\n' "$containers" | while read -r s n; do
      [ -z "$service" ] || [ "$s" = "$service" ] || continue
      health=healthy; [ "$n" != "$FAKE_UNHEALTHY" ] || health=unhealthy
      if [ $wide = 1 ]; then echo "$s $n running Up 2 hours ($health)"; else echo "$s $n"; fi
    done ;;
  inspect)
    name=\${@: -1}
    case "$*" in
      *'{{.Image}}'*) echo "sha256:0123456789abcdef" ;;
      *'"/data/grafana"'*) echo "clinical-bdd-creator-prod-grafana-data" ;;
      *'"/data/prometheus"'*) echo "clinical-bdd-creator-prod-prometheus-data" ;;
      *'"/backups"'*) echo "clinical-bdd-creator-prod-backups" ;;
      *'{{.Name}} {{.Source}}'*)
        case $name in
          dashboards-grafana*) echo "clinical-bdd-creator-prod-grafana-data /var/lib/docker/volumes/clinical-bdd-creator-prod-grafana-data/_data " ;;
          metrics-prometheus*) echo "\${FAKE_PROMETHEUS_VOLUME:-clinical-bdd-creator-prod-prometheus-data} /var/lib/docker/volumes/x/_data " ;;
        esac ;;
      *'.State.Health'*) [ "$name" != "$FAKE_NEVER_HEALTHY" ] && echo healthy || echo unhealthy ;;
      *'{{.State.Status}}'*) state "$name" ;;
    esac ;;
  stop) shift; for n in "$@"; do echo exited > "$OPS_CALLS.state.$n"; echo "$n"; done ;;
  start) echo running > "$OPS_CALLS.state.$2"; echo "$2" ;;
  restart) echo running > "$OPS_CALLS.state.$2"; echo "$2" ;;
  kill) gen=$(cat "$OPS_CALLS.hup" 2>/dev/null || echo 0); echo $((gen + 1)) > "$OPS_CALLS.hup"; echo "\${@: -1}" ;;
  top) gen=$(cat "$OPS_CALLS.hup" 2>/dev/null || echo 0)
    printf 'PID COMMAND\\n1%s00 nginx: master process nginx\\n1%s01 nginx: worker process\\n1%s02 nginx: worker process\\n' 0 "$gen" "$gen" ;;
  run)
    case "$*" in
      *"sh -c ls -1 /backups/prometheus"*) echo /backups/prometheus/prometheus-20261128T190000Z.tar.gz ;;
      *"sh -c ls -1 /backups/grafana"*) echo /backups/grafana/grafana-20261128T200000Z.tar.gz ;;
      *"restore.sh --check"*) [ -z "$FAKE_BAD_CHECKSUM" ] || { echo "restore: checksum mismatch for x.tar.gz; nothing was touched" >&2; exit 1; } ;;
      *restore.sh*) echo "restore: restored"; exit "\${FAKE_RESTORE_EXIT:-0}" ;;
    esac ;;
  exec)
    case "$*" in
      *"ls -1t"*) echo /backups/grafana/grafana-20261128T200000Z.tar.gz ;;
      *backup.sh*) echo "backup: done" >&2 ;;
    esac ;;
  logs) echo "2026-11-28T20:00:00Z log line of \${@: -1}" ;;
esac
exit 0
`;

/** The stand-in stack on Swarm: label, service name, mode, update order, host-mode ports. */
const swarmServices = [
    ["alertmanager", "prod-alerting-alertmanager", "replicated", "stop-first", ""],
    ["app", "prod-app", "replicated", "start-first", ""],
    ["backup", "prod-backups-job", "replicated", "stop-first", ""],
    ["edge", "prod-front-door-edge", "global", "stop-first", "80,443,"],
    ["grafana", "prod-dashboards-grafana", "replicated", "stop-first", ""],
    ["nginx", "prod-front-door-nginx", "replicated", "start-first", ""],
    ["prometheus", "prod-metrics-prometheus", "replicated", "stop-first", ""],
];

/** docker as a Swarm manager holding the stand-in stack's services; replicas live in files beside the call log. */
const fakeSwarmDocker = `#!/bin/bash
echo "docker $*" >> "$OPS_CALLS"
services='${swarmServices.map((s) => s.join(" ")).join("\n")}'
field() { printf '%s\\n' "$services" | awk -v n="$1" -v f="$2" '$2 == n { print $f }'; }
label_of() { field "$1" 1; }
replicas() { cat "$OPS_CALLS.replicas.$1" 2>/dev/null || { [ "$1" = prod-app ] && echo 2 || echo 1; }; }
arg_after() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
filters() { printf '%s\\n' "$@" | sed -n "s/^label=clinicalbdd.$1=//p"; }
case "$1 $2" in
  "info --format") [ -z "$FAKE_DOCKER_DOWN" ] || exit 1; echo "active true" ;;
  "info "*) [ -z "$FAKE_DOCKER_DOWN" ] || exit 1 ;;
  "node inspect") echo "\${FAKE_DATA_LABEL-true}" ;;
  "service ls")
    stack=$(filters stack "$@"); want=$(filters service "$@")
    [ "$stack" = prod ] || exit 0
    printf '%s\\n' "$services" | while read -r label name mode order ports; do
      [ -z "$want" ] || [ "$want" = "$label" ] || continue
      r=$(replicas "$name"); running=$r; [ "$label" != "$FAKE_DOWN_SERVICE" ] || running=0
      case "$*" in *'{{.Mode}}'*) echo "$name $mode $running/$r" ;; *) echo "$name" ;; esac
    done ;;
  "service inspect")
    format=$(arg_after -f "$@"); shift 4
    for name in "$@"; do
      case $format in
        *'"clinicalbdd.service"'*) echo "$(label_of "$name") $name" ;;
        *UpdateStatus.State*) echo completed ;;
        *Order*) echo "$(field "$name" 4) 65000000000 $(field "$name" 5)" ;;
        *Monitor*) echo 65000000000 ;;
        *Replicated.Replicas*) replicas "$name" ;;
        *'"/data/grafana"'*) echo prod-grafana-data ;;
        *'"/data/prometheus"'*) echo prod-prometheus-data ;;
        *'"/backups"'*) echo prod-backups ;;
        *'{{.Source}} {{end}}'*) case $name in *grafana) echo "prod-grafana-data " ;; *prometheus) echo "\${FAKE_PROMETHEUS_VOLUME:-prod-prometheus-data} " ;; esac ;;
        *'eq .Type "volume"'*) case $name in *grafana) echo prod-grafana-data ;; *prometheus) echo prod-prometheus-data ;; *backups-job) printf 'prod-grafana-data\\nprod-backups\\n' ;; esac ;;
        *ContainerSpec.Image*) echo sha256:0123456789abcdef ;;
      esac
    done ;;
  "service ps")
    name=$3; r=$(replicas "$name")
    for i in $(seq 1 "$r"); do
      case "$*" in
        *--quiet*) echo "task$i" ;;
        *'{{.Error}}'*) if [ "$(label_of "$name")" = "$FAKE_DOWN_SERVICE" ]; then printf '%s.%s\\tPending 3 seconds ago\\t"no suitable node (scheduling constraints not satisfied on 1 node)"\\n' "$name" "$i"; else printf '%s.%s\\tRunning 2 hours ago\\t\\n' "$name" "$i"; fi ;;
        *) echo "Running 1 second ago" ;;
      esac
    done ;;
  "service update") exit "\${FAKE_UPDATE_EXIT:-0}" ;;
  "service scale") shift 3; for kv in "$@"; do echo "\${kv#*=}" > "$OPS_CALLS.replicas.\${kv%=*}"; echo "\${kv%=*} scaled to \${kv#*=}"; done ;;
  "service logs") echo "2026-11-28T20:00:02Z \${@: -1}.2.abc@node1    | second"; echo "2026-11-28T20:00:01Z \${@: -1}.1.def@node1    | first" ;;
  "volume inspect") [ -z "$FAKE_NO_VOLUME" ] ;;
  "volume rm") echo "$3" ;;
  "ps "* | "ps")
    name=$(printf '%s\\n' "$@" | sed -n 's/^label=com.docker.swarm.service.name=//p')
    [ -z "$name" ] && exit 0
    [ "$(replicas "$name")" = 0 ] && exit 0
    case "$*" in *-aq*) echo c0ffee ;; *) echo "$name.1.xyz" ;; esac ;;
  "inspect -f") echo sha256:0123456789abcdef ;;
  "run "*)
    case "$*" in
      *"sh -c ls -1 /backups/grafana"*) echo /backups/grafana/grafana-20261128T200000Z.tar.gz ;;
      *"restore.sh --check"*) [ -z "$FAKE_BAD_CHECKSUM" ] || { echo "restore: checksum mismatch for x.tar.gz; nothing was touched" >&2; exit 1; } ;;
      *restore.sh*) echo "restore: restored"; exit "\${FAKE_RESTORE_EXIT:-0}" ;;
    esac ;;
  "exec "*) case "$*" in *"ls -1t"*) echo /backups/grafana/grafana-20261128T200000Z.tar.gz ;; *backup.sh*) echo "backup: done" >&2 ;; esac ;;
esac
exit 0
`;

const fakePulumi = `#!/bin/bash
echo "pulumi $*" >> "$OPS_CALLS"
case "$1 $2" in
  "config get") case $3 in tlsRotation) echo 2 ;; grafanaPasswordRotation) exit 1 ;; platform) [ -n "$FAKE_PLATFORM" ] || exit 1; echo "$FAKE_PLATFORM" ;; esac ;;
  "stack output")
    case $3 in
      healthUrl) echo https://localhost/health ;;
      appUrl) echo https://localhost/ ;;
      grafanaUrl) echo http://127.0.0.1:3001/ ;;
      prometheusUrl) echo http://127.0.0.1:9090/ ;;
      alertmanagerUrl) echo http://127.0.0.1:9093/ ;;
      replicas) echo 2 ;;
      certificateExpiresAt) echo 2027-11-28T00:00:00.000Z ;;
      *) echo "value-of-$3" ;;
    esac ;;
esac
exit 0
`;

const fakeCurl = `#!/bin/bash
echo "curl $*" >> "$OPS_CALLS"
url=\${@: -1}
if [ -n "$FAKE_DOWN_URL" ] && [ "$url" = "$FAKE_DOWN_URL" ]; then
  echo "curl: (7) Failed to connect" >&2; printf '000 in 0.001 s'; exit 7
fi
printf '200 in 0.012 s'
`;

let tmp: ReturnType<typeof makeTempDir>;
let fullBin: string;
let swarmBin: string;

function makeBin(name: string, tools: Record<string, string>): string {
    const dir = path.join(tmp.dir, name);
    fs.mkdirSync(dir);
    for (const [tool, script] of Object.entries(tools)) fs.writeFileSync(path.join(dir, tool), script, { mode: 0o755 });
    return dir;
}

beforeAll(() => {
    tmp = makeTempDir("ops");
    fullBin = makeBin("bin", { docker: fakeDocker, pulumi: fakePulumi, curl: fakeCurl });
    swarmBin = makeBin("swarm-bin", { docker: fakeSwarmDocker, pulumi: fakePulumi, curl: fakeCurl });
});
afterAll(() => tmp.cleanup());

interface Result {
    code: number;
    stdout: string;
    stderr: string;
    calls: string[];
}

function ops(args: string[], env: Record<string, string> = {}, bin = fullBin, input = ""): Result {
    const calls = path.join(tmp.dir, `calls-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(calls, "");
    const result = spawnSync("bash", [opsScript, ...args], {
        encoding: "utf8",
        timeout: 30_000,
        input,
        env: {
            // Only the stand-ins and the system's basics: no real docker or pulumi can answer.
            PATH: `${bin}:/usr/bin:/bin`,
            HOME: tmp.dir,
            OPS_CALLS: calls,
            PULUMI_BACKEND_URL: "file:///nonexistent-state",
            PULUMI_CONFIG_PASSPHRASE_FILE: "/nonexistent-passphrase",
            ...env,
        },
    });
    if (result.error) throw new Error(`ops.sh could not run: ${result.error.message}`);
    const recorded = fs.readFileSync(calls, "utf8").split("\n").filter((l) => l !== "");
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, calls: recorded };
}

/** The calls that change something (the look-ups filtered out: a docker run with the data read-only only reads). */
const changing = (r: Result) =>
    r.calls.filter(
        (c) =>
            !/^(docker (info|ps|inspect|top|logs)|pulumi (config get|stack output)|curl )/.test(c) &&
            !/^docker exec \S+ sh -c/.test(c) &&
            !/^docker run .*:\/data\/\w+:ro /.test(c),
    );

describe("arguments and failures", () => {
    test.each([
        [[], /ops: which verb\?/],
        [["frobnicate"], /frobnicate: unknown verb 'frobnicate'/],
        [["backup", "extra"], /backup: backup takes no arguments/],
        [["restore"], /restore needs an archive name/],
        [["restore", "latest"], /give --service grafana\|prometheus/],
        [["restore", "x.tar.gz", "--service", "nginx"], /--service is grafana or prometheus, got 'nginx'/],
    ])("%j is refused with exit 2 before anything runs", (args, message) => {
        const r = ops(args as string[]);
        expect({ code: r.code, stderr: r.stderr, calls: r.calls }).toEqual({ code: 2, stderr: expect.stringMatching(message as RegExp), calls: [] });
        expect(r.stderr).toMatch(/npm run ops -- --help/);
    });

    test("without a Docker engine, a Docker verb says how to start one", () => {
        const r = ops(["backup"], { FAKE_DOCKER_DOWN: "1" });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/backup: no Docker engine answers \(docker info failed\)\.\n\s+Start it:\s+sudo systemctl enable --now docker/);
        expect(r.calls).toEqual(["docker info"]);
    });

    test("without the docker CLI at all, it says how to install it", () => {
        const bin = makeBin("no-docker", { pulumi: fakePulumi, curl: fakeCurl });
        // The system's tools without the engine's CLI (this machine may have one in /usr/bin).
        const system = path.join(tmp.dir, "system-without-docker");
        fs.mkdirSync(system);
        for (const dir of ["/usr/bin", "/bin"]) {
            for (const tool of fs.readdirSync(dir)) {
                if (!tool.startsWith("docker") && !fs.existsSync(path.join(system, tool))) fs.symlinkSync(path.join(dir, tool), path.join(system, tool));
            }
        }
        const r = ops(["backup"], { PATH: `${bin}:${system}` }, bin);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/backup: the docker CLI is not installed\.\n.*apt-get install docker\.io/) });
    });
});

describe("the Docker verbs", () => {
    test("backup runs backup.sh in the backup job's container now", () => {
        const r = ops(["backup"]);
        expect(r.code).toBe(0);
        expect(changing(r)).toEqual(["docker exec -e BACKUP_LOCK_WAIT_SECONDS=600 backups-job-1f2e3d4 /usr/local/bin/backup.sh"]);
        expect(r.stdout).toMatch(/grafana-20261128T200000Z\.tar\.gz/);
    });

    test("backup with the job stopped says so and how to start it", () => {
        const r = ops(["backup"], { FAKE_STOPPED: "backups-job-1f2e3d4" });
        expect({ code: r.code, stderr: r.stderr, changed: changing(r) }).toEqual({
            code: 1, stderr: expect.stringMatching(/the backup job backups-job-1f2e3d4 is not running \(exited\): start it with docker start backups-job-1f2e3d4/), changed: [],
        });
    });

    const oneShot = (mode: string) =>
        `docker run --rm --label clinicalbdd.ops=restore --network none --user 0:0 --security-opt no-new-privileges --cap-drop ALL --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER --cap-add FSETID -v clinical-bdd-creator-prod-grafana-data:/data/grafana:${mode} -v clinical-bdd-creator-prod-backups:/backups:ro sha256:0123456789abcdef`;

    test("restore: verified first in a one-shot container, then stop, restore in another with the volume writable, start the service healthy, then the job", () => {
        const r = ops(["restore", "grafana-20261128T200000Z.tar.gz"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        const verify = r.calls.indexOf(`${oneShot("ro")} /usr/local/bin/restore.sh --check /backups/grafana/grafana-20261128T200000Z.tar.gz --service grafana`);
        expect(verify).toBeGreaterThan(-1);
        const restoreName = /--name (clinicalbdd-restore-prod-grafana-\d+)/.exec(r.calls.join("\n"))?.[1];
        expect(changing(r)).toEqual([
            "docker stop dashboards-grafana-4c5d6e7 backups-job-1f2e3d4",
            `docker run --name ${restoreName} ${oneShot("rw").slice("docker run ".length)} /usr/local/bin/restore.sh /backups/grafana/grafana-20261128T200000Z.tar.gz --service grafana`,
            "docker start dashboards-grafana-4c5d6e7",
            "docker start backups-job-1f2e3d4",
        ]);
        expect(verify).toBeLessThan(r.calls.indexOf("docker stop dashboards-grafana-4c5d6e7 backups-job-1f2e3d4"));
        // Nothing runs inside the job: it may be stopped, and it mounts Grafana's volume read-only.
        expect(r.calls.filter((c) => /^docker (exec|run .*--volumes-from)/.test(c))).toEqual([]);
        expect(r.stdout).toMatch(/\[1\/4\][\s\S]*\[2\/4\][\s\S]*\[3\/4\][\s\S]*dashboards-grafana-4c5d6e7 is healthy after[\s\S]*backups-job-1f2e3d4 is running\nrestore: restored grafana from grafana-20261128T200000Z\.tar\.gz\n$/);
    });

    test("restore latest --service prometheus picks the newest archive", () => {
        const r = ops(["restore", "latest", "--service", "prometheus", "--dry-run"]);
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/would run: docker run --name clinicalbdd-restore-prod-prometheus-\d+ .* \/usr\/local\/bin\/restore\.sh \/backups\/prometheus\/prometheus-20261128T190000Z\.tar\.gz --service prometheus/);
        expect(changing(r)).toEqual([]);
    });

    test("restore works with the backup job stopped (it is started again afterwards)", () => {
        const r = ops(["restore", "latest", "--service", "grafana"], { FAKE_STOPPED: "backups-job-1f2e3d4" });
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(changing(r).filter((c) => !c.startsWith("docker run"))).toEqual([
            "docker stop dashboards-grafana-4c5d6e7", "docker start dashboards-grafana-4c5d6e7", "docker start backups-job-1f2e3d4",
        ]);
    });

    test.each([
        ["fails with the data unchanged", "1", /NOT done: grafana is not restored from grafana-20261128T200000Z\.tar\.gz; its data are unchanged/],
        ["is killed part way", "137", /NOT done: grafana is not restored from grafana-20261128T200000Z\.tar\.gz: the restore step ended with code 137 part way, so its data may be part old, part new; restore again now/],
    ])("restore whose step %s starts Grafana and the job again and says what to retry", (_what, code, message) => {
        const r = ops(["restore", "grafana-20261128T200000Z.tar.gz"], { FAKE_RESTORE_EXIT: code });
        expect(r.code).toBe(1);
        expect(changing(r).slice(-2)).toEqual(["docker start dashboards-grafana-4c5d6e7", "docker start backups-job-1f2e3d4"]);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/every container this verb stopped is running again: dashboards-grafana-4c5d6e7 backups-job-1f2e3d4\n.*retry with: npm run restore -- grafana-20261128T200000Z\.tar\.gz --service grafana --stack prod --yes/);
    });

    test("restore refuses an archive whose checksum does not match, and stops nothing", () => {
        const r = ops(["restore", "grafana-20261128T200000Z.tar.gz"], { FAKE_BAD_CHECKSUM: "1" });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/grafana-20261128T200000Z\.tar\.gz cannot be restored \(above\): nothing was touched/);
        expect(changing(r)).toEqual([]);
    });

    test("restore refuses when the service does not mount the volume the job backs up, and stops nothing", () => {
        const r = ops(["restore", "latest", "--service", "prometheus"], { FAKE_PROMETHEUS_VOLUME: "some-other-volume" });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/metrics-prometheus-2b3c4d5 does not mount clinical-bdd-creator-prod-prometheus-data, the volume the backup job backs up as prometheus: nothing was touched/);
        expect(changing(r)).toEqual([]);
    });
});

// The same verbs when the engine is a Swarm manager holding services labelled with the stack
// (how ops.sh tells a Swarm stack, without the Pulumi CLI). test/opsSwarmEngine.test.ts runs
// them for real on a single-node Swarm.
describe("the Docker verbs on a Swarm stack (recorded)", () => {
    const swarm = (args: string[], env: Record<string, string> = {}) => ops(args, env, swarmBin);
    /** The calls that change something: look-ups and the read-only one-shot container filtered out. */
    const swarmChanging = (r: Result) =>
        r.calls.filter(
            (c) =>
                !/^(docker (info|ps|inspect|node inspect|volume inspect|service (ls|inspect|ps|logs))|pulumi (config get|stack output)|curl )/.test(c) &&
                !/^docker exec \S+ sh -c/.test(c) &&
                !/^docker run .*:\/data\/\w+:ro /.test(c),
        );

    test("backup runs backup.sh in the backup job's task container on this node", () => {
        const r = swarm(["backup"]);
        expect(r.code).toBe(0);
        expect(swarmChanging(r)).toEqual(["docker exec -e BACKUP_LOCK_WAIT_SECONDS=600 prod-backups-job.1.xyz /usr/local/bin/backup.sh"]);
    });

    const oneShot = (mode: string) =>
        `docker run --rm --label clinicalbdd.ops=restore --network none --user 0:0 --security-opt no-new-privileges --cap-drop ALL --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER --cap-add FSETID -v prod-grafana-data:/data/grafana:${mode} -v prod-backups:/backups:ro sha256:0123456789abcdef`;

    test("restore: verified, Grafana and the job scaled to 0, restored in a one-shot container, Grafana scaled back (healthy), then the job", () => {
        const r = swarm(["restore", "grafana-20261128T200000Z.tar.gz"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(r.calls).toContain(`${oneShot("ro")} /usr/local/bin/restore.sh --check /backups/grafana/grafana-20261128T200000Z.tar.gz --service grafana`);
        const restoreName = /--name (clinicalbdd-restore-prod-grafana-\d+)/.exec(r.calls.join("\n"))?.[1];
        expect(swarmChanging(r)).toEqual([
            "docker service scale --detach prod-dashboards-grafana=0 prod-backups-job=0",
            `docker run --name ${restoreName} ${oneShot("rw").slice("docker run ".length)} /usr/local/bin/restore.sh /backups/grafana/grafana-20261128T200000Z.tar.gz --service grafana`,
            "docker service scale --detach prod-dashboards-grafana=1",
            "docker service scale --detach prod-backups-job=1",
        ]);
        expect(r.calls.filter((c) => /^docker (stop|start|exec|kill|restart)/.test(c))).toEqual([]);
        expect(r.stdout).toMatch(/prod-dashboards-grafana is running and healthy \(1 task\(s\)\)[\s\S]*prod-backups-job is running \(1 task\(s\) started\)[\s\S]*restore: restored grafana from grafana-20261128T200000Z\.tar\.gz\n$/);
    });

    test("restore whose step fails scales both back and says what to retry", () => {
        const r = swarm(["restore", "latest", "--service", "grafana"], { FAKE_RESTORE_EXIT: "137" });
        expect(r.code).toBe(1);
        expect(swarmChanging(r).slice(-2)).toEqual(["docker service scale --detach prod-dashboards-grafana=1", "docker service scale --detach prod-backups-job=1"]);
        expect(r.stderr).toMatch(/NOT done: grafana is not restored from grafana-20261128T200000Z\.tar\.gz: the restore step ended with code 137 part way/);
        expect(r.stderr).toMatch(/every service this verb scaled to 0 runs again: prod-dashboards-grafana prod-backups-job\n.*retry with: npm run restore -- grafana-20261128T200000Z\.tar\.gz --service grafana --stack prod --yes/);
    });

    test.each([
        ["a bad checksum", { FAKE_BAD_CHECKSUM: "1" }, /cannot be restored \(above\): nothing was touched/],
        ["off the data node", { FAKE_DATA_LABEL: "" }, /restore runs on the data node \(labelled clinicalbdd\.data=true\)[^\n]*nothing was touched/],
        ["a service not mounting the job's volume", { FAKE_PROMETHEUS_VOLUME: "other" }, /prod-metrics-prometheus does not mount prod-prometheus-data/],
    ])("restore refuses %s and scales nothing", (_what, env, message) => {
        const r = swarm(["restore", "latest", "--service", _what.includes("mounting") ? "prometheus" : "grafana"], env);
        expect({ code: r.code, changed: swarmChanging(r) }).toEqual({ code: 1, changed: [] });
        expect(r.stderr).toMatch(message);
    });

});

test("no file of the verbs passes 400 lines", () => {
    const scripts = path.dirname(opsScript);
    const long = fs
        .readdirSync(scripts)
        .filter((f) => /^ops(-[\w-]+)?\.sh$/.test(f))
        .map((f) => `${f}: ${fs.readFileSync(path.join(scripts, f), "utf8").split("\n").length - 1}`)
        .filter((line) => Number(line.split(": ")[1]) > 400);
    expect(long).toEqual([]);
});

test("shellcheck finds nothing in scripts/ops.sh and the verbs' files it sources", () => {
    const scripts = path.dirname(opsScript);
    const files = fs.readdirSync(scripts).filter((f) => /^ops(-[\w-]+)?\.sh$/.test(f));
    expect(files).toEqual(expect.arrayContaining(["ops.sh", "ops-swarm.sh", "ops-restore.sh"]));
    const r = spawnSync("shellcheck", ["-x", ...files.map((f) => path.join(scripts, f))], { encoding: "utf8", timeout: 30_000 });
    expect({ code: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ code: 0, output: "" });
});
