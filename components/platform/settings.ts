import * as pulumi from "@pulumi/pulumi";
import { loadConfigSchema, loadProjectName } from "./configSchema";

/** Every validated setting of the platform. Built once, frozen, passed down. */
export interface Settings {
    readonly project: string;
    /** Where the platform runs: one Docker host, or services on an existing Swarm cluster. */
    readonly platform: Platform;
    readonly swarm: SwarmSettings;
    readonly replicas: number;
    readonly domain: string;
    readonly app: AppSettings;
    readonly tls: TlsSettings;
    readonly ports: PortSettings;
    readonly monitoring: MonitoringSettings;
    readonly logs: LogSettings;
    readonly images: ImageSettings;
    readonly alerting: AlertingSettings;
    readonly backup: BackupSettings;
}

export type Platform = "docker" | "swarm";

export interface SwarmSettings {
    /**
     * How nginx publishes 80/443: `host` binds them on every node labelled clinicalbdd.edge=true
     * (no routing mesh, client addresses kept, one nginx per edge node, stop-first);
     * `ingress` uses the routing mesh (any node answers, start-first, needs IPVS on the nodes).
     */
    readonly publishMode: "host" | "ingress";
}

export interface BackupSettings {
    readonly intervalMinutes: number;
    /** Archives kept per service. */
    readonly retention: number;
    /** A host directory for the archives, or undefined for a named volume. */
    readonly hostPath?: string;
}

export interface AppSettings {
    /** Limits: what a replica may use. */
    readonly memoryMb: number;
    readonly cpus: number;
    /** Reservations under Swarm: what a task needs to be placed on a node (at most the limits). */
    readonly memoryReservationMb: number;
    readonly cpuReservation: number;
    readonly gunicornWorkers: number;
    readonly maxConcurrentRequests: number;
    readonly requestTimeoutSeconds: number;
    readonly maxBodyMb: number;
    /** A prebuilt image reference, or undefined to build app/ locally. */
    readonly image?: string;
}

export interface TlsSettings {
    readonly validityDays: number;
    readonly renewBeforeDays: number;
    readonly rotation: number;
}

export interface PortSettings {
    readonly http: number;
    readonly https: number;
    readonly grafana: number;
    readonly prometheus: number;
    readonly alertmanager: number;
    /** Host address the monitoring ports bind to. */
    readonly monitoringBindAddress: string;
}

export interface MonitoringSettings {
    readonly publicGrafana: boolean;
    readonly prometheusRetention: string;
    readonly grafanaPasswordRotation: number;
    /** Keep data volumes on `pulumi destroy`. */
    readonly retainDataVolumes: boolean;
}

export interface LogSettings {
    readonly maxSize: string;
    readonly maxFiles: number;
}

export interface ImageSettings {
    readonly nginx: string;
    readonly prometheus: string;
    readonly alertmanager: string;
    readonly grafana: string;
    readonly nodeExporter: string;
    readonly cadvisor: string;
    readonly nginxExporter: string;
    readonly blackboxExporter: string;
}

export interface AlertingSettings {
    readonly emailTo?: string;
    readonly emailFrom: string;
    readonly smtpSmarthost?: string;
    readonly smtpUsername?: string;
}

/** Reads one raw config value by key (no project prefix); undefined when not set. */
export type ConfigReader = (key: string) => string | undefined;

/** A bad config value: the message names every bad key, the value given and what is allowed. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration:\n  ${problems.join("\n  ")}`);
        this.name = "ConfigError";
    }
}

/** Memory below this cannot hold gunicorn's master and two Python workers with the app loaded. */
export const minAppMemoryMb = 256;

/** How many app replicas a stack may run (config key replicas; npm run scale). */
export const replicasBounds = { min: 1, max: 20 } as const;

/**
 * Reads every key through `read`, falls back to the defaults of Pulumi.yaml, validates, and
 * returns frozen Settings, or throws one ConfigError that lists every bad key.
 */
export function parseSettings(read: ConfigReader): Settings {
    const project = loadProjectName();
    const schema = loadConfigSchema();
    const problems: string[] = [];
    const raw = (key: string): string => {
        const given = read(key);
        if (given !== undefined) return given;
        const fallback = schema[key]?.default;
        if (fallback === undefined) throw new Error(`config key ${key} has no default in Pulumi.yaml`);
        return String(fallback);
    };
    const fail = (key: string, given: string, allowed: string): void => {
        problems.push(`${project}:${key}: got ${JSON.stringify(given)}; allowed: ${allowed}`);
    };
    const int = (key: string, min: number, max: number): number => {
        const given = raw(key);
        const value = Number(given);
        if (!/^-?\d+$/.test(given.trim()) || value < min || value > max) {
            fail(key, given, `an integer from ${min} to ${max}`);
        }
        return value;
    };
    // At most `places` decimals: the engine reads a CPU limit back in tenths (engineForms.ts).
    const decimal = (key: string, min: number, max: number, places: number): number => {
        const given = raw(key);
        const value = Number(given);
        if (!new RegExp(`^\\d+(\\.\\d{1,${places}})?$`).test(given.trim()) || value < min || value > max) {
            fail(key, given, `a decimal number from ${min} to ${max} with at most ${places} decimal place${places === 1 ? "" : "s"}`);
        }
        return value;
    };
    const bool = (key: string): boolean => {
        const given = raw(key);
        if (given !== "true" && given !== "false") fail(key, given, "true or false");
        return given === "true";
    };
    const matching = (key: string, pattern: RegExp, allowed: string): string => {
        const given = raw(key);
        if (!pattern.test(given)) fail(key, given, allowed);
        return given;
    };
    const optional = (key: string, pattern: RegExp, allowed: string): string | undefined => {
        const given = raw(key);
        if (given === "") return undefined;
        if (!pattern.test(given)) fail(key, given, allowed);
        return given;
    };
    const image = (key: string): string =>
        matching(key, pinnedImage, "an image reference with a pinned tag or digest (not latest)");
    const port = (key: string): number => int(key, 1, 65535);

    const validityDays = int("tlsValidityDays", 1, 825);
    const renewBeforeDays = int("tlsRenewBeforeDays", 0, 825);
    if (renewBeforeDays >= validityDays) {
        fail("tlsRenewBeforeDays", String(renewBeforeDays), `fewer days than tlsValidityDays (${validityDays})`);
    }
    const monitoringBindAddress = matching(
        "monitoringBindAddress",
        /^(?!0\.0\.0\.0$)\d{1,3}(\.\d{1,3}){3}$/,
        "an IPv4 address of this host other than 0.0.0.0 (set publicGrafana to publish Grafana through nginx)",
    );

    const platform = matching("platform", /^(docker|swarm)$/, "docker (one host) or swarm (an existing Swarm cluster)") as Platform;
    const settings: Settings = {
        project,
        platform,
        swarm: { publishMode: matching("swarmPublishMode", /^(host|ingress)$/, "host or ingress") as SwarmSettings["publishMode"] },
        replicas: int("replicas", replicasBounds.min, replicasBounds.max),
        domain: matching("domain", dnsName, "a DNS name such as bdd.example.org or localhost"),
        app: {
            memoryMb: int("appMemoryMb", minAppMemoryMb, 65536),
            cpus: decimal("appCpus", 0.2, 64, 1),
            memoryReservationMb: int("appMemoryReservationMb", 64, 65536),
            cpuReservation: decimal("appCpuReservation", 0.01, 64, 2),
            gunicornWorkers: int("gunicornWorkers", 1, 32),
            maxConcurrentRequests: int("maxConcurrentRequests", 1, 1000),
            requestTimeoutSeconds: int("requestTimeoutSeconds", 5, 3600),
            maxBodyMb: int("maxBodyMb", 1, 100),
            image: optional("appImage", pinnedImage, "empty, or an image reference with a pinned tag or digest"),
        },
        tls: { validityDays, renewBeforeDays, rotation: int("tlsRotation", 0, 1_000_000) },
        ports: {
            http: port("httpPort"),
            https: port("httpsPort"),
            grafana: port("grafanaPort"),
            prometheus: port("prometheusPort"),
            alertmanager: port("alertmanagerPort"),
            monitoringBindAddress,
        },
        monitoring: {
            publicGrafana: bool("publicGrafana"),
            prometheusRetention: matching("prometheusRetention", /^\d+(h|d|w|y)$/, "a duration such as 200h, 15d or 2w"),
            grafanaPasswordRotation: int("grafanaPasswordRotation", 0, 1_000_000),
            retainDataVolumes: bool("retainDataVolumes"),
        },
        logs: {
            maxSize: matching("logMaxSize", /^[1-9]\d*[kmg]$/, "a size such as 100m, 512k or 1g"),
            maxFiles: int("logMaxFiles", 1, 100),
        },
        images: {
            nginx: image("nginxImage"),
            prometheus: image("prometheusImage"),
            alertmanager: image("alertmanagerImage"),
            grafana: image("grafanaImage"),
            nodeExporter: image("nodeExporterImage"),
            cadvisor: image("cadvisorImage"),
            nginxExporter: image("nginxExporterImage"),
            blackboxExporter: image("blackboxExporterImage"),
        },
        alerting: {
            emailTo: optional("alertEmailTo", email, "empty, or an e-mail address"),
            emailFrom: matching("alertEmailFrom", email, "an e-mail address"),
            smtpSmarthost: optional("smtpSmarthost", /^[A-Za-z0-9.-]+:\d{1,5}$/, "empty, or host:port"),
            smtpUsername: optional("smtpUsername", /^\S+$/, "empty, or a user name without spaces"),
        },
        backup: {
            intervalMinutes: int("backupIntervalMinutes", 5, 1440),
            retention: int("backupRetention", 1, 10000),
            hostPath: optional("backupHostPath", /^(\/(?!\.\.?(\/|$))[A-Za-z0-9._-]+)+$/, "empty, or an absolute host directory other than / (letters, digits, . _ -)"),
        },
    };
    checkDistinctPorts(settings.ports, fail);
    // Reserving more than a task may use would only keep tasks from being placed.
    if (settings.app.cpuReservation > settings.app.cpus) {
        fail("appCpuReservation", String(settings.app.cpuReservation), `at most appCpus (${settings.app.cpus})`);
    }
    if (settings.app.memoryReservationMb > settings.app.memoryMb) {
        fail("appMemoryReservationMb", String(settings.app.memoryReservationMb), `at most appMemoryMb (${settings.app.memoryMb})`);
    }
    if (platform === "swarm" && !settings.app.image) {
        // A local build exists only on the host that built it; the other nodes pull by reference.
        fail("appImage", "", "an image reference every Swarm node can pull, whenever platform is swarm");
    }
    if (settings.alerting.emailTo && !settings.alerting.smtpSmarthost) {
        fail("smtpSmarthost", "", "host:port of an SMTP relay whenever alertEmailTo is set");
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return deepFreeze(settings);
}

/** The secret config keys: set with `pulumi config set --secret`, never given a default. */
export const secretKeys = [
    "secretKey",
    "jwtSecret",
    "encryptionKey",
    "openaiApiKey",
    "anthropicApiKey",
    "tlsCertificate",
    "tlsPrivateKey",
    "smtpPassword",
    "alertWebhookUrl",
] as const;
export type SecretKey = (typeof secretKeys)[number];

const dnsName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const email = /^[^@\s]+@[^@\s]+$/;
/** name:tag or name@sha256:digest, where the tag is not `latest`. */
const pinnedImage = /^[a-z0-9]([a-z0-9._\/-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9._-]+)*(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;

function checkDistinctPorts(ports: PortSettings, fail: (key: string, given: string, allowed: string) => void): void {
    const seen = new Map<number, string>();
    const keys: [keyof PortSettings, string][] = [
        ["http", "httpPort"],
        ["https", "httpsPort"],
        ["grafana", "grafanaPort"],
        ["prometheus", "prometheusPort"],
        ["alertmanager", "alertmanagerPort"],
    ];
    for (const [field, key] of keys) {
        const value = ports[field] as number;
        const other = seen.get(value);
        if (other) fail(key, String(value), `a port not already used by ${other}`);
        seen.set(value, key);
    }
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object") {
        Object.values(value).forEach(deepFreeze);
        Object.freeze(value);
    }
    return value;
}

/** The secret settings, each an Output marked secret, or undefined when not set (known at preview, so nothing empty is ever declared). */
export type SecretSettings = { readonly [K in SecretKey]: pulumi.Output<string> | undefined };

/** Reads and validates the stack's config. The only place that touches pulumi.Config. */
export function loadSettings(config: pulumi.Config = new pulumi.Config()): Settings {
    return parseSettings((key) => config.get(key));
}

/** Reads the secret config keys; each stays secret from here to the container file it lands in. */
export function loadSecretSettings(config: pulumi.Config = new pulumi.Config()): SecretSettings {
    const entries = secretKeys.map((key) => {
        const value = config.getSecret(key);
        return [key, value === undefined ? undefined : pulumi.secret(value)] as const;
    });
    return Object.freeze(Object.fromEntries(entries)) as SecretSettings;
}
