/**
 * The Docker Engine API as the verbs need it, found by the clinicalbdd.stack and
 * clinicalbdd.service labels: the interface the verbs call (a recording double in the tests;
 * ./dockerEngine.ts on dockerode in production) and the shapes it answers with.
 */

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
