/**
 * The input and state shapes of test/engine/provider.ts's imitation of @pulumi/docker
 * 5.2.0 (camelCase, as the program passes them to docker.Container / Volume / Network),
 * its ProviderError, and the small helpers that more than one provider*.ts module uses.
 * provider.ts re-exports the types, ProviderError and engineMessage.
 */
// ---------------------------------------------------------------------------------------
// Inputs, in the camelCase form the program passes to docker.Container / Volume / Network.

export interface UploadInput {
    file: string;
    content?: string;
    contentBase64?: string;
    source?: string;
    executable?: boolean;
    permissions?: string;
    owner?: string;
    group?: string;
}
export interface HealthcheckInput {
    tests: string[];
    interval?: string;
    timeout?: string;
    startPeriod?: string;
    startInterval?: string;
    retries?: number;
}
export interface NetworkAdvancedInput {
    name: string;
    aliases?: string[];
    ipv4Address?: string;
    ipv6Address?: string;
}
export interface VolumeMountInput {
    containerPath?: string;
    volumeName?: string;
    hostPath?: string;
    fromContainer?: string;
    readOnly?: boolean;
}
export interface PortInput {
    internal: number;
    external?: number;
    ip?: string;
    protocol?: string;
}
export interface LabelInput {
    label: string;
    value: string;
}

export interface ContainerInputs {
    image: string;
    name?: string;
    command?: string[];
    entrypoint?: string[];
    envs?: string[];
    user?: string;
    workingDir?: string;
    hostname?: string;
    domainname?: string;
    tty?: boolean;
    stdinOpen?: boolean;
    uploads?: UploadInput[];
    memory?: number;
    memorySwap?: number;
    cpus?: string;
    healthcheck?: HealthcheckInput;
    restart?: string;
    maxRetryCount?: number;
    logDriver?: string;
    logOpts?: Record<string, string>;
    securityOpts?: string[];
    readOnly?: boolean;
    tmpfs?: Record<string, string>;
    privileged?: boolean;
    publishAllPorts?: boolean;
    init?: boolean;
    stopSignal?: string;
    stopTimeout?: number;
    destroyGraceSeconds?: number;
    networkMode?: string;
    networksAdvanced?: NetworkAdvancedInput[];
    volumes?: VolumeMountInput[];
    ports?: PortInput[];
    labels?: LabelInput[];
    wait?: boolean;
    waitTimeout?: number;
    mustRun?: boolean;
    start?: boolean;
    attach?: boolean;
    logs?: boolean;
    rm?: boolean;
    removeVolumes?: boolean;
    containerReadRefreshTimeoutMilliseconds?: number;
}

/** The provider's state after Create/Read: declared values of fields Read does not set, plus what Read flattens. */
export interface ContainerState extends ContainerInputs {
    id: string;
    name: string;
    exitCode?: number;
    containerLogs?: string;
    /** What the engine holds for fields the provider does not read back (never diffed). */
    engine: {
        envs: string[];
        labels: Record<string, string>;
        networkAliases: Record<string, string[]>;
        running: boolean;
        health?: string;
    };
}

/** An error in the provider's words; `containerId` is set when the container was already created. */
export class ProviderError extends Error {
    constructor(message: string, readonly containerId?: string) {
        super(message);
        this.name = "ProviderError";
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers

export function labelsToMap(labels: LabelInput[] | undefined): Record<string, string> {
    return Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));
}

/** The Go client's wording for an engine error: "Error response from daemon: <message>". */
export function engineMessage(err: unknown): string {
    const e = err as { json?: { message?: string } | null; reason?: string; message?: string; statusCode?: number };
    if (e?.json && typeof e.json === "object" && e.json.message) return `Error response from daemon: ${e.json.message}`;
    if (e?.statusCode) return `Error response from daemon: ${e.message ?? String(err)}`;
    return e?.message ?? String(err);
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}
