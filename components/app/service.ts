import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { buildLocalImage } from "../platform/localImage";
import { AppSettings, Settings } from "../platform/settings";
import { ServiceGroup } from "../platform/service";
import { dockerTopology as t } from "../platform/topology";
import { Workload, WorkloadFile } from "../platform/workload";

/** The uid the app's Dockerfile creates and runs as. */
export const appUid = "10001";

/** The secrets the app reads at start (components/app/appSecrets.ts), and where. */
export interface AppSecretFiles {
    /** Paths relative to `directory`. */
    readonly files: readonly WorkloadFile[];
    readonly fileEnvs: Readonly<Record<string, string>>;
    readonly directory: string;
}

/**
 * The Flask app under gunicorn, `replicas` instances behind one network alias, so nginx and
 * Prometheus find every replica by DNS and a change of `replicas` touches only these. A
 * changed image or limit rolls through them one at a time, each new one healthy before the
 * next, while the old ones keep serving. Its image is built from app/ unless appImage is set.
 */
export function appService(settings: Settings, secrets: AppSecretFiles): ServiceGroup {
    return {
        name: "app",
        componentType: "clinicalbdd:platform:AppService",
        declare: (parent) => {
            const image = settings.app.image
                ? pulumi.output(settings.app.image)
                : buildLocalImage("app-image", "clinical-bdd-creator-app:local", path.join(__dirname, "..", "..", "app"), parent);
            const workload: Workload = {
                ...appWorkload(settings.app, secrets.fileEnvs, image),
                files: secrets.files.map((f) => ({ ...f, path: `${secrets.directory}/${f.path}` })),
            };
            return {
                parts: [{ name: "app", workload, replicas: { count: settings.replicas, containerName: (i) => appReplicaName("app", i) } }],
                outputs: { appImage: image },
            };
        },
    };
}

/** Resource name of replica `index` on one host; stable so scaling adds or removes only the last ones. */
function appReplicaName(serviceName: string, index: number): string {
    return `${serviceName}-replica-${index}`;
}

/** What an app replica runs; its secret files reach it the target's own way. */
function appWorkload(app: AppSettings, secretFileEnvs: Readonly<Record<string, string>>, image: pulumi.Input<string>): Workload {
    const port = t.app.port;
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
            ...secretFileEnvs,
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
        aliases: [t.app.alias],
        user: `${appUid}:${appUid}`,
        readOnlyRootFs: true,
        tmpfs: { "/tmp": "rw,noexec,nosuid,size=256m" },
        stopTimeoutSeconds: gracefulSeconds + 5,
    };
}
