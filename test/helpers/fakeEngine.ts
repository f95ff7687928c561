/**
 * A recording double of cli/engine.ts's Engine: a stack of containers (one host) or services
 * (Swarm) held in memory; every call is recorded as a line ("restart app-replica-0"), and the
 * calls that change something change the state the next look-up sees.
 */
import { ContainerDetails, Engine, LogOptions, OneShot, ServiceDetails, StackContainer, StackService, StackTask, SwarmRole } from "../../cli/engine";
import { runCommand } from "../../cli/plan";
import { Context, Io } from "../../cli/io";

export interface FakeContainer {
    service: string;
    name: string;
    state: string;
    health?: string;
}

export class FakeEngine implements Engine {
    readonly calls: string[] = [];
    down = false;
    role: SwarmRole = { state: "inactive", manager: false };
    containerList: FakeContainer[] = [];
    serviceList: StackService[] = [];
    taskStates: Record<string, StackTask[]> = {};
    /** Health the next look-ups of a container return, in turn (the last one repeats). */
    healthSequence: Record<string, string[]> = {};
    /** nginx worker pids, per SIGHUP generation. */
    hups = 0;
    logLines: Record<string, string> = {};
    failUpdate: Record<string, string> = {};
    stack = "prod";

    private record(call: string) {
        this.calls.push(call);
    }

    async ping(): Promise<void> {
        this.record("ping");
        if (this.down) throw new Error("connect ENOENT /var/run/docker.sock");
    }
    async swarmRole(): Promise<SwarmRole> {
        this.record("info");
        return this.role;
    }
    async containers(stack: string, service?: string): Promise<StackContainer[]> {
        this.record(`containers ${stack}${service ? ` ${service}` : ""}`);
        if (stack !== this.stack) return [];
        return this.containerList
            .filter((c) => !service || c.service === service)
            .map((c) => ({ service: c.service, name: c.name, state: c.state, status: c.state === "running" ? `Up 2 hours (${c.health ?? "healthy"})` : "Exited (0) 1 second ago" }))
            .sort((a, b) => (`${a.service} ${a.name}` < `${b.service} ${b.name}` ? -1 : 1));
    }
    async health(container: string): Promise<string> {
        this.record(`health ${container}`);
        const queued = this.healthSequence[container];
        if (queued && queued.length > 0) return queued.length > 1 ? queued.shift()! : queued[0];
        const c = this.containerList.find((x) => x.name === container);
        if (!c) return "missing";
        return c.state === "running" ? c.health ?? "healthy" : c.state;
    }
    async restart(container: string): Promise<void> {
        this.record(`restart ${container}`);
        const c = this.containerList.find((x) => x.name === container);
        if (c) c.state = "running";
    }
    async start(container: string): Promise<void> {
        this.record(`start ${container}`);
        const c = this.containerList.find((x) => x.name === container);
        if (c) c.state = "running";
    }
    async kill(container: string, signal: string): Promise<void> {
        this.record(`kill ${container} ${signal}`);
        if (signal === "HUP") this.hups++;
    }
    async processes(container: string): Promise<{ pid: string; args: string }[]> {
        this.record(`top ${container}`);
        const g = this.hups;
        return [
            { pid: "1000", args: "nginx: master process nginx" },
            { pid: `1${g}01`, args: "nginx: worker process" },
            { pid: `1${g}02`, args: "nginx: worker process" },
        ];
    }
    async logs(container: string, opts: LogOptions, to: (chunk: string) => void): Promise<void> {
        this.record(`logs ${container} since=${opts.since}${opts.follow ? " follow" : ""}`);
        to(this.logLines[container] ?? `2026-11-28T20:00:00Z log line of ${container}\n`);
    }
    async services(stack: string, label?: string): Promise<StackService[]> {
        this.record(`services ${stack}${label ? ` ${label}` : ""}`);
        if (stack !== this.stack) return [];
        return this.serviceList.filter((s) => !label || s.label === label);
    }
    async service(name: string): Promise<StackService> {
        this.record(`service ${name}`);
        const s = this.serviceList.find((x) => x.name === name);
        if (!s) throw new Error(`no such service: ${name}`);
        return s;
    }
    async tasks(service: string): Promise<StackTask[]> {
        this.record(`tasks ${service}`);
        const s = this.serviceList.find((x) => x.name === service);
        return this.taskStates[service] ?? Array.from({ length: this.replicas[service] ?? s?.desired ?? 0 }, (_, i) => ({ name: `${service}.${i + 1}`, state: "running", since: "2026-11-28T18:00:00Z", error: "" }));
    }
    async serviceLogs(service: string, opts: LogOptions, to: (chunk: string) => void): Promise<void> {
        this.record(`service-logs ${service} since=${opts.since}${opts.follow ? " follow" : ""}`);
        to(`2026-11-28T20:00:02Z ${service}.2.abc@node1    | second\n2026-11-28T20:00:01Z ${service}.1.def@node1    | first\n`);
    }
    /** Mounts by container (one host) or service (Swarm): destination → source. */
    mounts: Record<string, Record<string, string>> = {
        "backups-job-1f2e3d4": { "/data/grafana": "clinical-bdd-creator-prod-grafana-data", "/data/prometheus": "clinical-bdd-creator-prod-prometheus-data", "/backups": "clinical-bdd-creator-prod-backups" },
        "dashboards-grafana-4c5d6e7": { "/var/lib/grafana": "clinical-bdd-creator-prod-grafana-data" },
        "metrics-prometheus-2b3c4d5": { "/prometheus": "clinical-bdd-creator-prod-prometheus-data" },
        "prod-backups-job": { "/data/grafana": "prod-grafana-data", "/data/prometheus": "prod-prometheus-data", "/backups": "prod-backups" },
        "prod-dashboards-grafana": { "/var/lib/grafana": "prod-grafana-data" },
        "prod-metrics-prometheus": { "/prometheus": "prod-prometheus-data" },
    };
    /** Exit codes of one-shot containers, by a word of their command: "--check", "restore.sh" (the restore), "ls". */
    runExit: Record<string, number> = {};
    /** Called while the restore step runs (to deliver a signal meanwhile). */
    duringRestore?: () => Promise<void>;
    archives: Record<string, string> = { grafana: "/backups/grafana/grafana-20261128T200000Z.tar.gz", prometheus: "/backups/prometheus/prometheus-20261128T190000Z.tar.gz" };
    nodeLabels: Record<string, string> = { "clinicalbdd.data": "true" };
    replicas: Record<string, number> = {};
    execExit = 0;
    async inspect(container: string): Promise<ContainerDetails> {
        this.record(`inspect ${container}`);
        const c = this.containerList.find((x) => x.name === container);
        if (!c) throw new Error(`no such container: ${container}`);
        return { image: "sha256:0123456789abcdef", status: c.state, mounts: Object.entries(this.mounts[container] ?? {}).map(([destination, source]) => ({ destination, type: "volume", source })) };
    }
    async exec(container: string, command: readonly string[], env: Record<string, string>, out: (t: string) => void, err: (t: string) => void): Promise<number> {
        const e = Object.entries(env).map(([k, v]) => `-e ${k}=${v} `).join("");
        this.record(`exec ${e}${container} ${command.join(" ")}`);
        if (command.includes("/usr/local/bin/backup.sh")) err("backup: done\n");
        else out("/backups/grafana/grafana-20261128T200000Z.tar.gz\n");
        return this.execExit;
    }
    async stop(container: string, seconds?: number): Promise<void> {
        this.record(`stop ${container}${seconds === undefined ? "" : ` -t ${seconds}`}`);
        const c = this.containerList.find((x) => x.name === container);
        if (c) c.state = "exited";
    }
    async run(spec: OneShot, out: (t: string) => void, err: (t: string) => void): Promise<number> {
        this.record(runCommand(spec));
        const cmd = spec.command.join(" ");
        if (cmd.startsWith("sh -c ls")) {
            const service = /\/backups\/(\w+)\//.exec(cmd)?.[1] ?? "";
            out(`${this.archives[service] ?? ""}\n`);
            return this.runExit.ls ?? 0;
        }
        if (cmd.includes("--check")) {
            if (this.runExit["--check"]) err("restore: checksum mismatch for x.tar.gz; nothing was touched\n");
            return this.runExit["--check"] ?? 0;
        }
        if (this.duringRestore) await this.duringRestore();
        out("restore: restored\n");
        return this.runExit["restore.sh"] ?? 0;
    }
    async remove(container: string): Promise<void> {
        this.record(`rm -f ${container}`);
    }
    async serviceSpec(service: string): Promise<ServiceDetails> {
        this.record(`service-spec ${service}`);
        const s = this.serviceList.find((x) => x.name === service);
        return {
            image: "sha256:0123456789abcdef",
            replicas: s?.mode === "global" ? undefined : this.replicas[service] ?? s?.desired ?? 1,
            mounts: Object.entries(this.mounts[service] ?? {}).map(([destination, source]) => ({ destination, type: "volume", source })),
        };
    }
    async scale(service: string, replicas: number): Promise<void> {
        this.record(`service-scale ${service}=${replicas}`);
        this.replicas[service] = replicas;
    }
    async selfNode(): Promise<{ name: string; labels: Record<string, string> }> {
        this.record("self-node");
        return { name: "node1", labels: this.nodeLabels };
    }
    async taskContainers(service: string, all = false): Promise<{ name: string; image: string; state: string }[]> {
        this.record(`task-containers ${service}${all ? " all" : ""}`);
        const s = this.serviceList.find((x) => x.name === service);
        const n = this.replicas[service] ?? s?.desired ?? 0;
        return n === 0 ? [] : [{ name: `${service}.1.xyz`, image: "sha256:0123456789abcdef", state: "running" }];
    }
    volumes: string[] = ["prod-backups", "prod-grafana-data", "prod-prometheus-data"];
    /** Removals refused (in use) this many times before they succeed. */
    volumeBusy: Record<string, number> = {};
    async stackVolumes(stack: string): Promise<string[]> {
        this.record(`stack-volumes ${stack}`);
        return stack === this.stack ? [...this.volumes] : [];
    }
    async volumeExists(volume: string): Promise<boolean> {
        this.record(`volume-exists ${volume}`);
        return this.volumes.includes(volume);
    }
    async removeVolume(volume: string): Promise<void> {
        this.record(`volume-rm ${volume}`);
        if ((this.volumeBusy[volume] ?? 0) > 0) {
            this.volumeBusy[volume]--;
            throw new Error(`volume ${volume} is in use`);
        }
        this.volumes = this.volumes.filter((v) => v !== volume);
    }
    async forceUpdate(service: string): Promise<void> {
        this.record(`service-update --force ${service}`);
        const i = this.serviceList.findIndex((x) => x.name === service);
        if (i >= 0) this.serviceList[i] = { ...this.serviceList[i], updateState: this.failUpdate[service] ?? "completed", updateStartedAt: new Date(Date.now() + 1000).toISOString() };
    }
}

/** The stand-in stack on one host. */
export const hostContainers = (): FakeContainer[] => [
    { service: "alertmanager", name: "alerting-alertmanager-1a2b3c4", state: "running" },
    { service: "app", name: "app-replica-0-5d6e7f8", state: "running" },
    { service: "app", name: "app-replica-1-9a8b7c6", state: "running" },
    { service: "backup", name: "backups-job-1f2e3d4", state: "running" },
    { service: "grafana", name: "dashboards-grafana-4c5d6e7", state: "running" },
    { service: "nginx", name: "front-door-nginx-7a8b9c0", state: "running" },
    { service: "prometheus", name: "metrics-prometheus-2b3c4d5", state: "running" },
];

const svc = (label: string, name: string, mode: "replicated" | "global", order: string, hostPorts: number[] = [], desired = 1): StackService => ({
    label, name, mode, running: desired, desired, updateState: "completed", updateMessage: "", order, monitorNs: 65_000_000_000, hostPorts,
});

/** The stand-in stack on Swarm. */
export const swarmStack = (): StackService[] => [
    svc("alertmanager", "prod-alerting-alertmanager", "replicated", "stop-first"),
    svc("app", "prod-app", "replicated", "start-first", [], 2),
    svc("backup", "prod-backups-job", "replicated", "stop-first"),
    svc("edge", "prod-front-door-edge", "global", "stop-first", [80, 443]),
    svc("grafana", "prod-dashboards-grafana", "replicated", "stop-first"),
    svc("nginx", "prod-front-door-nginx", "replicated", "start-first"),
    svc("prometheus", "prod-metrics-prometheus", "replicated", "stop-first"),
];

export interface Captured extends Io {
    stdout: string;
    stderr: string;
}

export function capture(): Captured {
    const c: Captured = { stdout: "", stderr: "", out: (t) => void (c.stdout += t), err: (t) => void (c.stderr += t) };
    return c;
}

export function context(verb: string, io: Io, opts: Partial<Context> = {}): Context {
    return { verb, stack: "prod", dryRun: false, yes: false, io, healthWaitSeconds: 5, pollMs: 1, ...opts };
}

export interface VerbRun {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a verb as main does: its failure printed and turned into an exit code. */
export async function runVerbIn(verb: string, body: (ctx: Context) => Promise<void>, opts: Partial<Context> = {}): Promise<VerbRun> {
    const { exitCode } = await import("../../cli/main");
    const io = capture();
    let code = 0;
    try {
        await body(context(verb, io, opts));
    } catch (error) {
        code = exitCode(verb, error, io);
    }
    return { code, stdout: io.stdout, stderr: io.stderr };
}

/** A recording engine holding the one-host stack's containers. */
export function hostEngine(): FakeEngine {
    const e = new FakeEngine();
    e.containerList = hostContainers();
    return e;
}

/** A recording engine that is a Swarm manager of the stack's services. */
export function swarmEngine(): FakeEngine {
    const e = new FakeEngine();
    e.role = { state: "active", manager: true };
    e.serviceList = swarmStack();
    return e;
}
