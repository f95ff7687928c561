import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { DockerPlacement, runOnDocker } from "../../targets/docker/runner";
import { buildLocalImage } from "../../targets/localImage";
import { AppSettings } from "../platform/settings";
import { VolumeFiles } from "../../targets/docker/volumeFiles";
import { Workload, WorkloadFile } from "../platform/workload";

export interface AppServiceArgs {
    /** Limits, gunicorn and request settings of each replica. */
    readonly app: AppSettings;
    /** How many replicas; each is its own container. */
    readonly replicas: number;
    /** Network and log rotation shared by the platform. */
    readonly placement: DockerPlacement;
    /** Secret files (paths relative to secretsDirectory) and their NAME_FILE variables (from AppSecrets). */
    readonly secretFiles: readonly WorkloadFile[];
    readonly secretFileEnvs: Readonly<Record<string, string>>;
    /** Directory the secret files are written to (a volume, see below). */
    readonly secretsDirectory: string;
    /** Network alias every replica answers to; default `app`. */
    readonly alias?: string;
    /** Port gunicorn listens on; default 3000. */
    readonly port?: number;
    /** Directory holding the Dockerfile; default app/ beside this project. */
    readonly buildContext?: string;
}

/** The uid the app's Dockerfile creates and runs as. */
export const appUid = "10001";

/**
 * The Flask app under gunicorn, as `replicas` containers sharing one network alias, so
 * nginx and Prometheus find every replica by DNS and a change of `replicas` touches only
 * these containers. Each replica waits for its healthcheck, and each is created after the
 * one before it, so a changed image or limit rolls through them one at a time while the
 * old containers keep serving until their successors are healthy.
 */
export class AppService extends pulumi.ComponentResource {
    public readonly imageRef: pulumi.Output<string>;
    public readonly replicaNames: pulumi.Output<string>[];

    constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:AppService", name, {}, opts);
        if (!Number.isInteger(args.replicas) || args.replicas < 1) {
            throw new Error(`AppService ${name}: replicas must be a positive integer, got ${args.replicas}`);
        }
        const port = args.port ?? 3000;
        this.imageRef = args.app.image
            ? pulumi.output(args.app.image)
            : buildLocalImage(`${name}-image`, "clinical-bdd-creator-app:local", args.buildContext ?? path.join(__dirname, "..", "..", "app"), this);
        // Docker refuses uploads into a read-only root filesystem, even onto a volume, so
        // the daemon writes the secret files into a volume of their own before any replica
        // starts; a changed secret changes the replicas' label and rolls them to read it.
        const secretsVolume = new docker.Volume(`${name}-secrets`, {}, { parent: this });
        const secretFiles = new VolumeFiles(
            `${name}-secret-files`,
            { volumeName: secretsVolume.name, image: this.imageRef, files: args.secretFiles },
            { parent: this },
        );
        const workload: Workload = {
            ...appWorkload(args, this.imageRef, port),
            labels: { "clinicalbdd.secrets-version": secretFiles.contentHash.apply((h) => h.slice(0, 16)) },
            volumes: [{ volumeName: secretsVolume.name, containerPath: args.secretsDirectory, readOnly: true }],
        };

        const replicas: docker.Container[] = [];
        for (let i = 0; i < args.replicas; i++) {
            replicas.push(
                runOnDocker(appReplicaName(name, i), workload, args.placement, {
                    parent: this,
                    waitForHealthy: true,
                    // The docker provider asks delete-first for every container (its ResourceInfo);
                    // a replica's successor has its own generated name, so it starts beside it.
                    deleteBeforeReplace: false,
                    dependsOn: [secretFiles, ...replicas.slice(-1)],
                }),
            );
        }
        this.replicaNames = replicas.map((r) => r.name);
        this.registerOutputs({ imageRef: this.imageRef, replicaNames: this.replicaNames });
    }
}

/** Resource name of replica `index`; stable so scaling adds or removes only the last ones. */
export function appReplicaName(serviceName: string, index: number): string {
    return `${serviceName}-replica-${index}`;
}

/** What an app replica runs, on either target; the secret files reach it the target's own way. */
export function appWorkload(
    args: Pick<AppServiceArgs, "app" | "secretFileEnvs" | "alias">,
    image: pulumi.Input<string>,
    port: number,
): Workload {
    const app = args.app;
    const gracefulSeconds = 30;
    return {
        image,
        envs: {
            PORT: String(port),
            GUNICORN_WORKERS: String(app.gunicornWorkers),
            MAX_CONCURRENT_REQUESTS: String(app.maxConcurrentRequests),
            REQUEST_TIMEOUT_SECONDS: String(app.requestTimeoutSeconds),
            GRACEFUL_TIMEOUT_SECONDS: String(gracefulSeconds),
            MAX_BODY_BYTES: String(app.maxBodyMb * 1024 * 1024),
            PROMETHEUS_MULTIPROC_DIR: "/tmp/prometheus-multiproc",
            LOG_LEVEL: "info",
            ...args.secretFileEnvs,
        },
        limits: { memoryMb: app.memoryMb, cpus: app.cpus },
        reservations: { memoryMb: app.memoryReservationMb, cpus: app.cpuReservation },
        healthcheck: {
            test: ["CMD", "python", "-c", `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}/health', timeout=4)`],
            intervalSeconds: 10,
            timeoutSeconds: 5,
            retries: 3,
            startPeriodSeconds: 20,
        },
        aliases: [args.alias ?? "app"],
        user: `${appUid}:${appUid}`,
        readOnlyRootFs: true,
        tmpfs: { "/tmp": "rw,noexec,nosuid,size=256m" },
        stopTimeoutSeconds: gracefulSeconds + 5,
    };
}
