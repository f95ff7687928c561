import * as pulumi from "@pulumi/pulumi";

/** The labels on every container and Swarm service by which the operator's verbs find them: the stack, and the workload's first alias. */
export const stackLabel = "clinicalbdd.stack";
export const serviceLabel = "clinicalbdd.service";
/** The Swarm node labels (value "true") of the node holding the data volumes, and of the nodes publishing 80/443. */
export const dataNodeLabel = "clinicalbdd.data";
export const edgeNodeLabel = "clinicalbdd.edge";

/**
 * What runs: image, command, environment, files, limits, healthcheck, network alias.
 * Kept apart from how it runs (targets/docker/runner.ts on one host, targets/swarm/runner.ts
 * on a cluster); a service part (./service.ts) adds, as data, what a target must know.
 */
export interface Workload {
    /** Image reference to run. */
    readonly image: pulumi.Input<string>;
    /** Replaces the image's command. */
    readonly command?: readonly string[];
    /** Plain environment; never a secret (a secret goes in `files` and NAME__FILE/NAME_FILE). */
    readonly envs?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Files written into the container at creation. */
    readonly files?: readonly WorkloadFile[];
    /** Resource limits: what it may use. */
    readonly limits: Limits;
    /** What a scheduler must set aside to place it (Swarm); default nothing. */
    readonly reservations?: Limits;
    /** The container's own health probe. */
    readonly healthcheck: Healthcheck;
    /** Labels besides the stack and service ones, e.g. the version of files it reads only at start. */
    readonly labels?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Names other containers find this one by on the platform network. */
    readonly aliases: readonly string[];
    /** Named data volumes. */
    readonly volumes?: readonly { readonly volumeName: pulumi.Input<string>; readonly containerPath: string; readonly readOnly?: boolean }[];
    /** Host paths, read-only unless `readOnly: false` (exporters that read the host; a backup directory). */
    readonly hostMounts?: readonly { readonly hostPath: string; readonly containerPath: string; readonly readOnly?: boolean }[];
    /** Published ports; `ip` 0.0.0.0 is public, anything else is local to the host. */
    readonly ports?: readonly { readonly internal: number; readonly external: number; readonly ip: string }[];
    /** uid[:gid] to run as, where the image allows a non-root user. */
    readonly user?: string;
    /** Root filesystem read-only, with `tmpfs` mounts for what must be written. */
    readonly readOnlyRootFs?: boolean;
    readonly tmpfs?: Readonly<Record<string, string>>;
    /** Only cAdvisor needs it, to read every container's cgroups. */
    readonly privileged?: boolean;
    /** Seconds between SIGTERM and SIGKILL, so in-flight work can finish. */
    readonly stopTimeoutSeconds?: number;
}

/** Memory (MB) and CPU (cores) of one container: its limits, or its reservations. */
export interface Limits {
    readonly memoryMb: number;
    readonly cpus: number;
}

export interface WorkloadFile {
    readonly path: string;
    readonly content: pulumi.Input<string>;
    /** Octal permissions, e.g. "0400" for a secret. */
    readonly mode?: string;
    /** Numeric uid that owns the file, so a non-root process can read a 0400 secret. */
    readonly owner?: string;
    /** Holds a secret: under Swarm it becomes a Swarm secret, not a config. */
    readonly secret?: boolean;
}

export interface Healthcheck {
    readonly test: readonly string[];
    readonly intervalSeconds?: number;
    readonly timeoutSeconds?: number;
    readonly retries?: number;
    readonly startPeriodSeconds?: number;
}
