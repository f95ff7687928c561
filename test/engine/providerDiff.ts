/**
 * The Docker provider's diff of a container (resource_docker_container.go's schema:
 * ForceNew, Computed, defaults and DiffSuppressFuncs): which fields would show a diff on the
 * next `pulumi up`, and whether each replaces the container. The create, read and delete
 * halves are in provider.ts.
 */
import Docker from "dockerode";
import type { ContainerInputs, ContainerState, PortInput } from "./provider";

export interface FieldDiff {
    field: string;
    declared: unknown;
    engine: unknown;
    forcesReplacement: boolean;
    /** `field: declared X, engine Y` */
    text: string;
}

type Kind = "string" | "int" | "bool" | "list" | "set" | "map";
interface FieldRule {
    kind: Kind;
    forceNew: boolean;
    /** Optional+Computed: an unset input keeps whatever the state holds. */
    computed?: boolean;
    /** Schema default, used when the input is unset. */
    default?: unknown;
    /** DiffSuppressFunc "" → no-op (user, working_dir). */
    emptyIsNoop?: boolean;
}

/** The schema (042f771) for the fields this harness models. */
export const containerSchema: Readonly<Record<string, FieldRule>> = {
    image: { kind: "string", forceNew: true },
    command: { kind: "list", forceNew: true, computed: true },
    entrypoint: { kind: "list", forceNew: true, computed: true },
    user: { kind: "string", forceNew: true, emptyIsNoop: true },
    workingDir: { kind: "string", forceNew: true, emptyIsNoop: true },
    hostname: { kind: "string", forceNew: true, computed: true },
    domainname: { kind: "string", forceNew: true },
    envs: { kind: "set", forceNew: true, computed: true },
    labels: { kind: "set", forceNew: true, computed: true },
    restart: { kind: "string", forceNew: false, default: "no" },
    maxRetryCount: { kind: "int", forceNew: false },
    memory: { kind: "int", forceNew: false },
    memorySwap: { kind: "int", forceNew: false },
    cpus: { kind: "string", forceNew: true },
    healthcheck: { kind: "list", forceNew: false, computed: true },
    logDriver: { kind: "string", forceNew: true, computed: true },
    logOpts: { kind: "map", forceNew: true },
    securityOpts: { kind: "set", forceNew: true, computed: true },
    readOnly: { kind: "bool", forceNew: true, default: false },
    tmpfs: { kind: "map", forceNew: false },
    privileged: { kind: "bool", forceNew: true },
    publishAllPorts: { kind: "bool", forceNew: true },
    init: { kind: "bool", forceNew: false, computed: true },
    stopSignal: { kind: "string", forceNew: true, computed: true },
    stopTimeout: { kind: "int", forceNew: true, computed: true },
    destroyGraceSeconds: { kind: "int", forceNew: false },
    networkMode: { kind: "string", forceNew: true, default: "bridge" },
    networksAdvanced: { kind: "set", forceNew: true },
    volumes: { kind: "set", forceNew: true },
    ports: { kind: "list", forceNew: true },
    uploads: { kind: "set", forceNew: true },
    wait: { kind: "bool", forceNew: false, default: false },
    waitTimeout: { kind: "int", forceNew: false, default: 60 },
    mustRun: { kind: "bool", forceNew: false, default: true },
    start: { kind: "bool", forceNew: false, default: true },
    attach: { kind: "bool", forceNew: false, default: false },
    logs: { kind: "bool", forceNew: false, default: false },
    rm: { kind: "bool", forceNew: false, default: false },
    removeVolumes: { kind: "bool", forceNew: false, default: true },
    tty: { kind: "bool", forceNew: true, default: false },
    stdinOpen: { kind: "bool", forceNew: true, default: false },
    containerReadRefreshTimeoutMilliseconds: { kind: "int", forceNew: false, default: 15000 },
};

/** Healthcheck sub-field defaults ("0s", retries 0). */
const healthcheckDefaults = { interval: "0s", timeout: "0s", startPeriod: "0s", startInterval: "0s", retries: 0 };

/**
 * The fields that would show a diff on the next `pulumi up` if the program declared
 * `declared` against `state`, honouring Computed (unset keeps state), Default, the
 * DiffSuppressFuncs (user/working_dir "", the ports migration suppressor) and set
 * semantics (order and duplicates do not matter).
 */
export async function diffContainer(declared: ContainerInputs, state: ContainerState, docker?: Docker): Promise<FieldDiff[]> {
    const diffs: FieldDiff[] = [];
    for (const [field, rule] of Object.entries(containerSchema)) {
        let want = (declared as unknown as Record<string, unknown>)[field];
        let have = (state as unknown as Record<string, unknown>)[field];
        if (want === undefined) {
            if (rule.computed) continue;
            want = rule.default;
        }
        if (field === "image" && docker) {
            want = await imageId(docker, String(want));
            have = await imageId(docker, String(have));
        }
        if (field === "healthcheck") {
            want = want === undefined ? undefined : { ...healthcheckDefaults, ...(want as object) };
        }
        if (field === "ports") {
            want = ((want as PortInput[] | undefined) ?? []).map((p) => ({ ip: "0.0.0.0", protocol: "tcp", ...p }));
            if (portsUnchanged(have as PortInput[] | undefined, want as PortInput[])) continue;
        }
        if (rule.emptyIsNoop && (want === "" || want === undefined)) continue;
        if (!sameValue(rule.kind, want, have)) {
            diffs.push({
                field,
                declared: want,
                engine: have,
                forcesReplacement: rule.forceNew,
                text: `${field}: declared ${canonical(want)}, engine ${canonical(have)}`,
            });
        }
    }
    return diffs;
}

function sameValue(kind: Kind, a: unknown, b: unknown): boolean {
    const empty = (v: unknown) =>
        v === undefined || v === null || v === "" || v === 0 || v === false ||
        (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
    if (empty(a) && empty(b)) return true;
    switch (kind) {
        case "set": {
            const norm = (v: unknown) => [...new Set(((v as unknown[]) ?? []).map((x) => canonical(x)))].sort();
            return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
        }
        case "map":
        case "list":
            return canonical(a) === canonical(b);
        default:
            return a === b;
    }
}

/** JSON with sorted keys, sets inside (aliases, tests stay ordered: tests is a list) normalised. */
function canonical(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (v && typeof v === "object") {
        const entries = Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .map(([k, x]) => [k, k === "aliases" && Array.isArray(x) ? [...new Set(x as string[])].sort() : x] as const)
            .sort(([a], [b]) => a.localeCompare(b));
        return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
    }
    return JSON.stringify(v);
}

/** suppressIfPortsDidNotChangeForMigrationV0ToV1: same length, and every old port found unchanged by internal port. */
function portsUnchanged(old: PortInput[] | undefined, next: PortInput[]): boolean {
    const before = old ?? [];
    if (before.length !== next.length) return false;
    for (const o of before) {
        const n = next.find((p) => p.internal === o.internal && (p.protocol === o.protocol || !next.some((q) => q.internal === o.internal && q.protocol === o.protocol)));
        if (!n) return false;
        if (n.protocol !== o.protocol) return false;
        if (n.external !== undefined && n.external !== o.external) return false;
        if (n.ip !== o.ip) return false;
    }
    return true;
}

async function imageId(docker: Docker, ref: string): Promise<string> {
    try {
        return (await docker.getImage(ref).inspect()).Id;
    } catch {
        return ref;
    }
}

