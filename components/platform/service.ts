import * as pulumi from "@pulumi/pulumi";
import { Workload } from "./workload";

/**
 * One part of the platform as every target runs it: what runs (the workload) and, as data,
 * what a target must know to run it well. Each service's home (components/<part>/service.ts,
 * monitoring/<part>/service.ts) declares its groups; targets/docker and targets/swarm turn
 * every part into a container or a Swarm service through one generic runner, and never name
 * a service.
 */
export interface ServiceGroup {
    /** Resource name of the group; its parts and helper resources are named `<name>-<role>`. */
    readonly name: string;
    /** Type token of the group's component on one host (part of its resources' URNs). */
    readonly componentType: string;
    /** Named volumes its parts mount, created by the target where it creates volumes (one host). */
    readonly volumes?: readonly VolumeDeclaration[];
    /** Groups whose parts must be running first (on one host: created after them). */
    readonly after?: readonly string[];
    /** Declares the group's own resources (generated secrets, built images) under `parent`, and returns its parts. */
    readonly declare: (parent: pulumi.Resource) => DeclaredGroup;
}

export interface DeclaredGroup {
    readonly parts: readonly ServicePart[];
    /** Values the stack outputs report (e.g. a generated password, an image reference). */
    readonly outputs?: Readonly<Record<string, pulumi.Output<string>>>;
}

export interface VolumeDeclaration {
    /** The name workloads mount it by (a Swarm node creates it under this name on first mount). */
    readonly key: string;
    /** Resource name on one host. */
    readonly resourceName: string;
    /** Fixed Docker name (a data volume a later `pulumi up` must find again); default autonamed. */
    readonly dockerName?: string;
    /** Data that outlives the stack: labelled clinicalbdd.data and kept by `pulumi destroy` when `retain`. */
    readonly data?: { readonly retain: boolean };
}

/** How a running process takes new files without a restart, and how they are checked first. */
export interface LiveFilesPolicy {
    /** Resource name of the push: `<group>-<name>`. */
    readonly name: string;
    readonly reload: LiveReload;
    /** Validates the new files in a throwaway container of the same image; default none. */
    readonly check?: readonly string[];
}

/** A signal the daemon sends to PID 1 (nginx, Prometheus, Alertmanager: HUP), or a command run as the container's own user. */
export type LiveReload = { readonly signal: string } | { readonly exec: readonly string[]; readonly user: string };

export interface ServicePart {
    /** Resource name: the container on one host, the Swarm service. */
    readonly name: string;
    readonly workload: Workload;
    /** Several identical instances behind one alias, each on one host a container of its own. */
    readonly replicas?: { readonly count: number; readonly containerName: (index: number) => string };
    /**
     * Two instances may not run side by side: it owns a data volume (one TSDB, one SQLite) or
     * fixed host ports. One host: the old container goes before its successor starts; Swarm:
     * a data part runs on the data node, stop-first.
     */
    readonly exclusive?: "data" | "ports";
    /** New files reach the running process (one host) instead of replacing it; default at creation only. */
    readonly liveFiles?: LiveFilesPolicy;
    /** Healthy only after minutes (its first run): a deployment does not wait for it. */
    readonly healthyLate?: boolean;
    /** Runs on one target only; default both. */
    readonly onlyOn?: "docker" | "swarm";
    readonly swarm?: SwarmScheduling;
}

/** What only a Swarm scheduler needs to know. */
export interface SwarmScheduling {
    /** One task on every node (an exporter of each node's host); default replicated. */
    readonly global?: boolean;
    /** Tasks of a replicated part without `replicas`; default 1. */
    readonly replicas?: number;
    /** Pinned to the data node (clinicalbdd.data=true), where the data volumes it mounts live; one task, stop-first. */
    readonly onDataNode?: boolean;
    /** Pinned to the nodes labelled clinicalbdd.edge=true (they hold the public ports). */
    readonly onEdgeNodes?: boolean;
    /** Published ports' mode: host, or ingress (the routing mesh). */
    readonly publishMode?: "host" | "ingress";
    /** Replaces the image's entrypoint, for a step before the server starts (there is no live reload on Swarm). */
    readonly entrypoint?: readonly string[];
}

/** What every service's home is told besides the settings. */
export interface PlatformFacts {
    /** `<project>-<stack>`, the prefix of every fixed volume name: two stacks on one host never share data. */
    readonly volumePrefix: string;
}
