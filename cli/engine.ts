/**
 * The Docker Engine API as the verbs need it, found by the clinicalbdd.stack and
 * clinicalbdd.service labels: an interface the verbs call (a recording double in the tests)
 * and its dockerode implementation. The engine is DOCKER_HOST's (unix, tcp or ssh), as the
 * docker CLI's.
 */
import Docker from "dockerode";
import { Writable } from "stream";
import { serviceLabel, stackLabel } from "./platformFacts";

/** One container of the stack, as `docker ps -a` lists it. */
export interface StackContainer {
    readonly service: string;
    readonly name: string;
    /** running, exited, … */
    readonly state: string;
    /** e.g. "Up 2 hours (healthy)" */
    readonly status: string;
}

/** One Swarm service of the stack. */
export interface StackService {
    readonly label: string;
    readonly name: string;
    readonly mode: "replicated" | "global";
    readonly running: number;
    readonly desired: number;
    /** UpdateStatus.State, or "-" when the service was never updated. */
    readonly updateState: string;
    readonly updateMessage: string;
    readonly updateStartedAt?: string;
    /** start-first or stop-first */
    readonly order: string;
    readonly monitorNs: number;
    /** Ports published in host mode. */
    readonly hostPorts: readonly number[];
}

export interface Mount {
    /** Where it is mounted in the container. */
    readonly destination: string;
    /** volume or bind */
    readonly type: string;
    /** The volume's name, or the host directory. */
    readonly source: string;
    /** A bind's host path, a volume's path on the host. */
    readonly hostPath?: string;
}

export interface ContainerDetails {
    readonly image: string;
    readonly status: string;
    readonly mounts: readonly Mount[];
}

export interface ServiceDetails {
    readonly image: string;
    readonly replicas?: number;
    readonly mounts: readonly Mount[];
}

/** A one-shot container: what docker run --rm … would start. */
export interface OneShot {
    readonly name?: string;
    readonly image: string;
    readonly labels: Record<string, string>;
    /** -v source:destination:mode */
    readonly binds: readonly string[];
    readonly command: readonly string[];
    readonly user: string;
    readonly network: string;
    readonly capDrop: readonly string[];
    readonly capAdd: readonly string[];
    readonly securityOpt: readonly string[];
    /** Extra limits (OPS_RESTORE_DOCKER_ARGS: --ulimit, --cpus). */
    readonly ulimits?: readonly { Name: string; Soft: number; Hard: number }[];
    readonly nanoCpus?: number;
}

/** A task that should run, with its state (Swarm calls a task with a healthcheck running once it is healthy). */
export interface StackTask {
    readonly name: string;
    readonly state: string;
    readonly since: string;
    readonly error: string;
}

export interface LogOptions {
    /** Unix seconds. */
    readonly since: number;
    readonly follow: boolean;
}

export interface SwarmRole {
    /** inactive, active, pending, … */
    readonly state: string;
    readonly manager: boolean;
}

export interface Engine {
    /** Throws when no engine answers. */
    ping(): Promise<void>;
    swarmRole(): Promise<SwarmRole>;
    /** The stack's containers (of one service if given), sorted by service then name. */
    containers(stack: string, service?: string): Promise<StackContainer[]>;
    /** healthy, unhealthy, starting (its healthcheck), else its state; "missing" when gone. */
    health(container: string): Promise<string>;
    restart(container: string): Promise<void>;
    start(container: string): Promise<void>;
    kill(container: string, signal: string): Promise<void>;
    /** The container's processes: pid and command line. */
    processes(container: string): Promise<{ pid: string; args: string }[]>;
    /** The container's log lines (stdout and stderr), written to `to` as they come. */
    logs(container: string, opts: LogOptions, to: (chunk: string) => void): Promise<void>;
    /** The stack's Swarm services (of one label if given), sorted by label. */
    services(stack: string, label?: string): Promise<StackService[]>;
    service(name: string): Promise<StackService>;
    tasks(service: string): Promise<StackTask[]>;
    serviceLogs(service: string, opts: LogOptions, to: (chunk: string) => void): Promise<void>;
    /** A container's image (by id), state and mounts. */
    inspect(container: string): Promise<ContainerDetails>;
    /** docker exec: the command's stdout and stderr passed on; resolves to its exit code. */
    exec(container: string, command: readonly string[], env: Record<string, string>, out: (t: string) => void, err: (t: string) => void): Promise<number>;
    /** docker stop (the engine's grace period, `seconds` when given). */
    stop(container: string, seconds?: number): Promise<void>;
    /** docker run --rm of a one-shot container: its output passed on; resolves to its exit code. */
    run(spec: OneShot, out: (t: string) => void, err: (t: string) => void): Promise<number>;
    /** docker rm -f; no error when it is gone. */
    remove(container: string): Promise<void>;
    /** A Swarm service's image, replicas (undefined when global) and mounts. */
    serviceSpec(service: string): Promise<ServiceDetails>;
    /** docker service scale --detach */
    scale(service: string, replicas: number): Promise<void>;
    /** This engine's Swarm node: its hostname and labels. */
    selfNode(): Promise<{ name: string; labels: Record<string, string> }>;
    /** The task containers of a Swarm service on this node (running ones unless `all`). */
    taskContainers(service: string, all?: boolean): Promise<{ name: string; image: string; state: string }[]>;
    /** The named volumes the stack's Swarm services mount (Swarm makes them on the nodes), sorted. */
    stackVolumes(stack: string): Promise<string[]>;
    volumeExists(volume: string): Promise<boolean>;
    removeVolume(volume: string): Promise<void>;
    /** docker service update --force: a new ForceUpdate, every task replaced by the service's update config. */
    forceUpdate(service: string): Promise<void>;
}

/** Splits the engine's multiplexed log stream (8-byte frame headers) into text; a TTY's stream is raw. */
export function demux(buffer: Buffer): string {
    let text = "";
    let at = 0;
    while (at + 8 <= buffer.length && buffer[at] <= 2 && buffer[at + 1] === 0 && buffer[at + 2] === 0 && buffer[at + 3] === 0) {
        const size = buffer.readUInt32BE(at + 4);
        text += buffer.subarray(at + 8, at + 8 + size).toString("utf8");
        at += 8 + size;
    }
    return at === 0 ? buffer.toString("utf8") : text + buffer.subarray(at).toString("utf8");
}

const byServiceThenName = (a: StackContainer, b: StackContainer) => (a.service + " " + a.name < b.service + " " + b.name ? -1 : 1);

export class DockerEngine implements Engine {
    readonly docker: Docker;

    constructor(docker: Docker = new Docker()) {
        this.docker = docker;
    }

    async ping(): Promise<void> {
        await this.docker.ping();
    }

    async swarmRole(): Promise<SwarmRole> {
        const info = (await this.docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
        return { state: info.Swarm?.LocalNodeState ?? "inactive", manager: info.Swarm?.ControlAvailable === true };
    }

    async containers(stack: string, service?: string): Promise<StackContainer[]> {
        const label = [`${stackLabel}=${stack}`, ...(service ? [`${serviceLabel}=${service}`] : [])];
        const list = await this.docker.listContainers({ all: true, filters: { label } });
        return list
            .map((c) => ({ service: c.Labels[serviceLabel] ?? "", name: (c.Names[0] ?? c.Id).replace(/^\//, ""), state: c.State, status: c.Status }))
            .sort(byServiceThenName);
    }

    async health(container: string): Promise<string> {
        try {
            const state = (await this.docker.getContainer(container).inspect()).State;
            return state.Health?.Status ?? state.Status;
        } catch {
            return "missing";
        }
    }

    async restart(container: string): Promise<void> {
        await this.docker.getContainer(container).restart();
    }

    async start(container: string): Promise<void> {
        await this.docker.getContainer(container).start();
    }

    async kill(container: string, signal: string): Promise<void> {
        await this.docker.getContainer(container).kill({ signal });
    }

    async processes(container: string): Promise<{ pid: string; args: string }[]> {
        const top = (await this.docker.getContainer(container).top({ ps_args: "-o pid,args" })) as { Titles: string[]; Processes: string[][] };
        const pid = top.Titles.indexOf("PID");
        const args = top.Titles.findIndex((t) => t === "COMMAND" || t === "ARGS" || t === "CMD");
        return top.Processes.map((p) => ({ pid: p[pid], args: p[args] ?? "" }));
    }

    async logs(container: string, opts: LogOptions, to: (chunk: string) => void): Promise<void> {
        const c = this.docker.getContainer(container);
        if (!opts.follow) {
            const buffer = (await c.logs({ stdout: true, stderr: true, timestamps: true, since: opts.since, follow: false })) as unknown as Buffer;
            to(demux(Buffer.from(buffer)));
            return;
        }
        const stream = await c.logs({ stdout: true, stderr: true, timestamps: true, since: opts.since, follow: true });
        await this.pipeMultiplexed(stream, to);
    }

    private pipeMultiplexed(stream: NodeJS.ReadableStream, to: (chunk: string) => void): Promise<void> {
        const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (to(chunk.toString("utf8")), done()) });
        this.docker.modem.demuxStream(stream, sink, sink);
        return new Promise((resolve, reject) => {
            stream.on("end", resolve);
            stream.on("error", reject);
        });
    }

    async services(stack: string, label?: string): Promise<StackService[]> {
        const filters = { label: [`${stackLabel}=${stack}`, ...(label ? [`${serviceLabel}=${label}`] : [])] };
        const list = await this.docker.listServices({ filters, status: true } as Docker.ServiceListOptions);
        return list.map((s) => toStackService(s)).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    }

    async service(name: string): Promise<StackService> {
        const inspected = await this.docker.getService(name).inspect();
        const [listed] = await this.docker.listServices({ filters: { id: [inspected.ID] }, status: true } as Docker.ServiceListOptions);
        return toStackService(listed ?? inspected);
    }

    async tasks(service: string): Promise<StackTask[]> {
        const list = (await this.docker.listTasks({ filters: { service: [service], "desired-state": ["running"] } })) as {
            Slot?: number;
            NodeID?: string;
            Status?: { State?: string; Timestamp?: string; Err?: string };
        }[];
        return list.map((t) => ({
            name: `${service}.${t.Slot ?? t.NodeID ?? "?"}`,
            state: t.Status?.State ?? "unknown",
            since: t.Status?.Timestamp ?? "",
            error: t.Status?.Err ?? "",
        }));
    }

    async serviceLogs(service: string, opts: LogOptions, to: (chunk: string) => void): Promise<void> {
        // As the docker CLI prints them: "<time> <service>.<slot>.<task>@<node>    | <line>",
        // from the details (task and node ids) the engine adds to each line.
        const [tasks, nodes] = await Promise.all([
            this.docker.listTasks({ filters: { service: [service] } }) as Promise<{ ID: string; Slot?: number; NodeID?: string }[]>,
            this.docker.listNodes().catch(() => []) as Promise<{ ID: string; Description?: { Hostname?: string } }[]>,
        ]);
        const slots = new Map(tasks.map((t) => [t.ID, t.Slot !== undefined ? String(t.Slot) : t.NodeID ?? "?"]));
        const hosts = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
        let partial = "";
        const line = (text: string): string => {
            const m = /^(\S+) (\S*) ?(.*)$/.exec(text);
            if (!m) return text;
            const details = Object.fromEntries(m[2].split(",").map((kv) => kv.split("=") as [string, string]));
            const task = details["com.docker.swarm.task.id"];
            if (!task) return text;
            const node = details["com.docker.swarm.node.id"] ?? "";
            return `${m[1]} ${service}.${slots.get(task) ?? "?"}.${task.slice(0, 12)}@${hosts.get(node) ?? node}    | ${m[3]}`;
        };
        const write = (chunk: string) => {
            const lines = (partial + chunk).split("\n");
            partial = lines.pop() ?? "";
            if (lines.length > 0) to(lines.map((l) => `${line(l)}\n`).join(""));
        };
        const s = this.docker.getService(service);
        const result = (await s.logs({ stdout: true, stderr: true, timestamps: true, since: opts.since, follow: opts.follow, details: true })) as unknown;
        if (Buffer.isBuffer(result)) write(demux(result));
        else await this.pipeMultiplexed(result as NodeJS.ReadableStream, write);
        if (partial) to(`${line(partial)}\n`);
    }

    async inspect(container: string): Promise<ContainerDetails> {
        const c = await this.docker.getContainer(container).inspect();
        return {
            image: c.Image,
            status: c.State.Status,
            mounts: ((c.Mounts ?? []) as { Type?: string; Name?: string; Source: string; Destination: string }[]).map((m) => ({
                destination: m.Destination,
                type: m.Type ?? "volume",
                source: m.Type === "volume" ? m.Name ?? "" : m.Source,
                hostPath: m.Source,
            })),
        };
    }

    async exec(container: string, command: readonly string[], env: Record<string, string>, out: (t: string) => void, err: (t: string) => void): Promise<number> {
        const exec = await this.docker.getContainer(container).exec({
            Cmd: [...command],
            Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
            AttachStdout: true,
            AttachStderr: true,
        });
        const stream = await exec.start({ hijack: true, stdin: false });
        await this.split(stream, out, err);
        return (await exec.inspect()).ExitCode ?? 1;
    }

    private split(stream: NodeJS.ReadableStream, out: (t: string) => void, err: (t: string) => void): Promise<void> {
        const sink = (to: (t: string) => void) => new Writable({ write: (chunk: Buffer, _enc, done) => (to(chunk.toString("utf8")), done()) });
        this.docker.modem.demuxStream(stream, sink(out), sink(err));
        return new Promise((resolve, reject) => {
            stream.on("end", resolve);
            stream.on("close", resolve);
            stream.on("error", reject);
        });
    }

    async stop(container: string, seconds?: number): Promise<void> {
        try {
            await this.docker.getContainer(container).stop(seconds === undefined ? {} : { t: seconds });
        } catch (error) {
            // 304: already stopped.
            if ((error as { statusCode?: number }).statusCode !== 304) throw error;
        }
    }

    async run(spec: OneShot, out: (t: string) => void, err: (t: string) => void): Promise<number> {
        const container = await this.docker.createContainer({
            name: spec.name,
            Image: spec.image,
            Cmd: [...spec.command],
            User: spec.user,
            Labels: spec.labels,
            AttachStdout: true,
            AttachStderr: true,
            HostConfig: {
                NetworkMode: spec.network,
                Binds: [...spec.binds],
                CapDrop: [...spec.capDrop],
                CapAdd: [...spec.capAdd],
                SecurityOpt: [...spec.securityOpt],
                ...(spec.ulimits ? { Ulimits: [...spec.ulimits] } : {}),
                ...(spec.nanoCpus ? { NanoCpus: spec.nanoCpus } : {}),
            },
        });
        try {
            const stream = await container.attach({ stream: true, stdout: true, stderr: true });
            const copied = this.split(stream, out, err);
            await container.start();
            const { StatusCode } = (await container.wait()) as { StatusCode: number };
            await Promise.race([copied, new Promise((r) => setTimeout(r, 2000))]);
            return StatusCode;
        } finally {
            await container.remove({ force: true }).catch(() => undefined);
        }
    }

    async remove(container: string): Promise<void> {
        await this.docker.getContainer(container).remove({ force: true }).catch(() => undefined);
    }

    async serviceSpec(service: string): Promise<ServiceDetails> {
        const s = (await this.docker.getService(service).inspect()) as {
            Spec: { Mode?: { Replicated?: { Replicas?: number } }; TaskTemplate?: { ContainerSpec?: { Image?: string; Mounts?: { Type?: string; Source?: string; Target?: string }[] } } };
        };
        const spec = s.Spec.TaskTemplate?.ContainerSpec;
        return {
            image: spec?.Image ?? "",
            replicas: s.Spec.Mode?.Replicated ? s.Spec.Mode.Replicated.Replicas ?? 0 : undefined,
            mounts: (spec?.Mounts ?? []).map((m) => ({ destination: m.Target ?? "", type: m.Type ?? "volume", source: m.Source ?? "" })),
        };
    }

    async scale(service: string, replicas: number): Promise<void> {
        const s = this.docker.getService(service);
        const current = await s.inspect();
        const spec = current.Spec;
        spec.Mode = { Replicated: { Replicas: replicas } };
        await s.update({ _query: { version: current.Version.Index }, _body: spec } as unknown as Docker.ServiceSpec);
    }

    async selfNode(): Promise<{ name: string; labels: Record<string, string> }> {
        const info = (await this.docker.info()) as { Name?: string; Swarm?: { NodeID?: string } };
        const node = (await this.docker.getNode(info.Swarm?.NodeID ?? "self").inspect()) as { Spec?: { Labels?: Record<string, string> }; Description?: { Hostname?: string } };
        return { name: node.Description?.Hostname ?? info.Name ?? "", labels: node.Spec?.Labels ?? {} };
    }

    async taskContainers(service: string, all = false): Promise<{ name: string; image: string; state: string }[]> {
        const list = await this.docker.listContainers({ all, filters: { label: [`com.docker.swarm.service.name=${service}`] } });
        return list.map((c) => ({ name: (c.Names[0] ?? c.Id).replace(/^\//, ""), image: c.ImageID, state: c.State }));
    }

    async stackVolumes(stack: string): Promise<string[]> {
        const list = (await this.docker.listServices({ filters: { label: [`${stackLabel}=${stack}`] } })) as {
            Spec?: { TaskTemplate?: { ContainerSpec?: { Mounts?: { Type?: string; Source?: string }[] } } };
        }[];
        const names = list.flatMap((s) => (s.Spec?.TaskTemplate?.ContainerSpec?.Mounts ?? []).filter((m) => m.Type === "volume" && m.Source).map((m) => m.Source as string));
        return [...new Set(names)].sort();
    }

    async volumeExists(volume: string): Promise<boolean> {
        try {
            await this.docker.getVolume(volume).inspect();
            return true;
        } catch {
            return false;
        }
    }

    async removeVolume(volume: string): Promise<void> {
        await this.docker.getVolume(volume).remove();
    }

    async forceUpdate(service: string): Promise<void> {
        const s = this.docker.getService(service);
        const current = await s.inspect();
        const spec = current.Spec;
        spec.TaskTemplate = { ...spec.TaskTemplate, ForceUpdate: (spec.TaskTemplate?.ForceUpdate ?? 0) + 1 };
        await s.update({ _query: { version: current.Version.Index }, _body: spec } as unknown as Docker.ServiceSpec);
    }
}

interface ServiceShape {
    Spec?: {
        Name?: string;
        Labels?: Record<string, string>;
        Mode?: { Replicated?: { Replicas?: number }; Global?: object };
        UpdateConfig?: { Order?: string; Monitor?: number };
    };
    Endpoint?: { Ports?: { PublishMode?: string; PublishedPort?: number }[] };
    UpdateStatus?: { State?: string; Message?: string; StartedAt?: string };
    ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number };
}

function toStackService(raw: unknown): StackService {
    const s = raw as ServiceShape;
    return {
        label: s.Spec?.Labels?.[serviceLabel] ?? "",
        name: s.Spec?.Name ?? "",
        mode: s.Spec?.Mode?.Global ? "global" : "replicated",
        running: s.ServiceStatus?.RunningTasks ?? 0,
        desired: s.ServiceStatus?.DesiredTasks ?? s.Spec?.Mode?.Replicated?.Replicas ?? 0,
        updateState: s.UpdateStatus?.State ?? "-",
        updateMessage: s.UpdateStatus?.Message ?? "",
        updateStartedAt: s.UpdateStatus?.StartedAt,
        order: s.Spec?.UpdateConfig?.Order ?? "stop-first",
        monitorNs: s.Spec?.UpdateConfig?.Monitor ?? (s.Spec?.UpdateConfig ? 0 : 5_000_000_000),
        hostPorts: (s.Endpoint?.Ports ?? []).filter((p) => p.PublishMode === "host").map((p) => p.PublishedPort ?? 0),
    };
}
