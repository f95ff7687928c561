/**
 * What a restore does, as pure functions the tests compare: its arguments, where it reads and
 * writes, the one-shot container that restores, and the plan of stops, steps and starts.
 * ./restore.ts runs it.
 */
import * as path from "path";
import { Mount, OneShot } from "./engine";
import { UsageError, VerbError } from "./io";
import { Plan } from "./plan";

export type RestoredService = "grafana" | "prometheus";

export function parseRestoreArgs(args: readonly string[]): { archive: string; service: RestoredService } {
    let archive = "";
    let service = "";
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--service") {
            if (i + 1 >= args.length) throw new UsageError("--service needs grafana or prometheus");
            service = args[++i];
        } else if (a.startsWith("--service=")) service = a.slice("--service=".length);
        else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else {
            if (archive) throw new UsageError("one archive at a time");
            archive = a;
        }
    }
    if (!archive) throw new UsageError("restore needs an archive name (grafana-<time>.tar.gz) or latest with --service");
    if (!service) {
        const base = path.basename(archive);
        if (base.startsWith("grafana-")) service = "grafana";
        else if (base.startsWith("prometheus-")) service = "prometheus";
        else throw new UsageError("give --service grafana|prometheus");
    }
    if (service !== "grafana" && service !== "prometheus") throw new UsageError(`--service is grafana or prometheus, got '${service}'`);
    return { archive, service };
}

/** Where the restore reads and writes: the job and the service (containers, or Swarm services), the job's image and mounts. */
export interface RestoreSources {
    readonly job: string;
    readonly target: string;
    readonly image: string;
    /** The volume (or host directory) the job mounts at /data/<service>. */
    readonly dataSource: string;
    /** The volume (or host directory) the job mounts at /backups. */
    readonly archiveSource: string;
}

export const mountAt = (mounts: readonly Mount[], destination: string) => mounts.find((m) => m.destination === destination)?.source ?? "";

/** The job mounts the service's data and the archives, and the service mounts the same data. */
export function checkRestoreSources(s: RestoreSources, service: string, targetMounts: readonly string[]): void {
    if (!s.dataSource) throw new VerbError(`the backup job ${s.job} mounts nothing at /data/${service}: cannot tell ${service}'s volume; nothing was touched`);
    if (!s.archiveSource) throw new VerbError(`the backup job ${s.job} mounts nothing at /backups: cannot find the archives; nothing was touched`);
    if (!targetMounts.includes(s.dataSource)) throw new VerbError(`${s.target} does not mount ${s.dataSource}, the volume the backup job backs up as ${service}: nothing was touched`);
}

/** OPS_RESTORE_DOCKER_ARGS: limits on the one-shot containers (--ulimit name=soft[:hard], --cpus N). */
export function parseExtraArgs(text: string | undefined): Pick<OneShot, "ulimits" | "nanoCpus"> {
    const words = (text ?? "").split(/\s+/).filter(Boolean);
    const ulimits: { Name: string; Soft: number; Hard: number }[] = [];
    let nanoCpus: number | undefined;
    for (let i = 0; i < words.length; i++) {
        const [flag, inline] = words[i].split(/=(.*)/s);
        const value = inline ?? words[++i] ?? "";
        const u = /^(\w+)=(\d+)(?::(\d+))?$/.exec(value);
        if (flag === "--ulimit" && u) ulimits.push({ Name: u[1], Soft: Number(u[2]), Hard: Number(u[3] ?? u[2]) });
        else if (flag === "--cpus" && /^\d+(\.\d+)?$/.test(value)) nanoCpus = Math.round(Number(value) * 1e9);
        else throw new VerbError(`OPS_RESTORE_DOCKER_ARGS: only --ulimit name=soft:hard and --cpus N are understood, got '${words.slice(0, i + 1).join(" ")}'`);
    }
    return { ...(ulimits.length ? { ulimits } : {}), ...(nanoCpus ? { nanoCpus } : {}) };
}

/**
 * restore.sh's image with the service's data at /data/<service> (ro or rw) and the archives
 * read-only at /backups, on no network, as root (the data keep their owners), with only the
 * capabilities that restoring owners and modes needs.
 */
export function oneShot(s: RestoreSources, service: string, mode: "ro" | "rw", command: readonly string[], extra: Pick<OneShot, "ulimits" | "nanoCpus"> = {}, name?: string): OneShot {
    return {
        ...(name ? { name } : {}),
        image: s.image,
        labels: { "clinicalbdd.ops": "restore" },
        network: "none",
        user: "0:0",
        securityOpt: ["no-new-privileges"],
        capDrop: ["ALL"],
        capAdd: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"],
        ...extra,
        binds: [`${s.dataSource}:/data/${service}:${mode}`, `${s.archiveSource}:/backups:ro`],
        command: [...command],
    };
}

/**
 * What restoring changes, in order. One host: the service and the job stopped (those
 * running), the restore step, the service started, then the job. Swarm: both scaled to 0,
 * the step, the service scaled back, then the job. The starts are also what any failure after
 * the first step runs.
 */
export function restorePlan(
    target: "docker" | "swarm",
    s: RestoreSources,
    service: string,
    archive: string,
    step: { name: string; extra?: Pick<OneShot, "ulimits" | "nanoCpus"> },
    running: { running?: readonly string[]; replicas?: Record<string, number> },
): Plan {
    const run = { kind: "run" as const, spec: oneShot(s, service, "rw", ["/usr/local/bin/restore.sh", archive, "--service", service], step.extra, step.name) };
    if (target === "swarm") {
        const r = (name: string) => running.replicas?.[name] ?? 1;
        return [
            { kind: "service-scale", scales: [{ service: s.target, replicas: 0 }, { service: s.job, replicas: 0 }] },
            run,
            { kind: "service-scale", scales: [{ service: s.target, replicas: r(s.target) }] },
            { kind: "service-scale", scales: [{ service: s.job, replicas: r(s.job) }] },
        ];
    }
    const stop = (running.running ?? []).filter((n) => n === s.target || n === s.job);
    return [...(stop.length ? [{ kind: "stop" as const, containers: stop }] : []), run, { kind: "start", container: s.target }, { kind: "start", container: s.job }];
}

