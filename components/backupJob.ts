import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { dataVolume } from "./dataVolume";
import { DockerPlacement, runOnDocker } from "./dockerContainer";
import { buildLocalImage } from "./localImage";
import { BackupSettings } from "./settings";
import { backupAlias } from "./topology";
import { Limits, Workload } from "./workload";

/** Where the job finds things inside its container (backup/backup.sh reads them from the environment). */
export const backupContainerPaths = Object.freeze({
    backups: "/backups",
    grafanaData: "/data/grafana",
    prometheusData: "/data/prometheus",
    textfile: "/textfile",
});

/** The file backup.sh writes for node-exporter's textfile collector. */
export const backupMetricsFile = "clinical_bdd_backup.prom";

export interface BackupJobArgs {
    /** Interval, retention and where the archives go. */
    readonly settings: BackupSettings;
    /** Prometheus on the platform network, started with --web.enable-admin-api. */
    readonly prometheusUrl: string;
    /** Docker names of the data volumes to back up. */
    readonly prometheusVolumeName: pulumi.Input<string>;
    readonly grafanaVolumeName: pulumi.Input<string>;
    /** Docker name of the backup volume (used when settings.hostPath is empty), and whether destroy keeps it. */
    readonly backupVolumeName: string;
    readonly retainVolume: boolean;
    readonly placement: DockerPlacement;
    /** Directory holding the Dockerfile and scripts; default backup/ beside this project. */
    readonly buildContext?: string;
    /** Limits; default 256 MB and 0.5 CPU (tar and gzip of the TSDB). */
    readonly limits?: Limits;
}

/**
 * A container that backs up Grafana and Prometheus every `intervalMinutes`: Prometheus
 * through its snapshot API, grafana.db through SQLite's online backup, each as a tar.gz
 * with a sha256 beside it, `retention` kept per service, in a volume or a host directory.
 * It writes the newest archive's time for node-exporter (the BackupTooOld alert), and
 * `npm run backup` / `npm run restore` run the same scripts in it.
 */
export class BackupJob extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;
    /** The volume node-exporter mounts as its textfile directory. */
    public readonly metricsVolumeName: pulumi.Output<string>;
    /** Where the archives are: the host directory, or the Docker volume's name. */
    public readonly location: pulumi.Output<string>;

    constructor(name: string, args: BackupJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:BackupJob", name, {}, opts);
        const s = args.settings;
        if (!Number.isInteger(s.intervalMinutes) || s.intervalMinutes < 1) {
            throw new Error(`BackupJob ${name}: intervalMinutes must be a positive integer, got ${s.intervalMinutes}`);
        }
        if (!Number.isInteger(s.retention) || s.retention < 1) {
            throw new Error(`BackupJob ${name}: retention must be a positive integer, got ${s.retention}`);
        }
        const context = args.buildContext ?? path.join(__dirname, "..", "backup");
        const image = buildLocalImage(`${name}-image`, "clinical-bdd-creator-backup:local", context, this);
        const metrics = new docker.Volume(`${name}-metrics`, {}, { parent: this });
        const archives = s.hostPath ? undefined : dataVolume(`${name}-archives`, args.backupVolumeName, args.retainVolume, this);
        // The job's own container waits for what the job was declared to depend on (Prometheus and
        // Grafana): the engine runs independent steps at once, and a data volume first mounted by
        // this root container would be initialised root-owned, which Prometheus cannot write.
        const container = runOnDocker(`${name}-job`, backupWorkload(args, image, metrics.name, archives?.name), args.placement, {
            parent: this,
            dependsOn: opts?.dependsOn,
        });
        this.containerName = container.name;
        this.metricsVolumeName = metrics.name;
        this.location = archives ? archives.name : pulumi.output(s.hostPath as string);
        this.registerOutputs({ containerName: this.containerName, metricsVolumeName: this.metricsVolumeName, location: this.location });
    }
}

/** What the backup job runs, on either target. */
export function backupWorkload(
    args: Pick<BackupJobArgs, "settings" | "prometheusUrl" | "prometheusVolumeName" | "grafanaVolumeName" | "limits">,
    image: pulumi.Output<string>,
    metricsVolume: pulumi.Output<string>,
    archivesVolume: pulumi.Output<string> | undefined,
): Workload {
    const p = backupContainerPaths;
    const s = args.settings;
    return {
        image,
        envs: {
            BACKUP_DIR: p.backups,
            BACKUP_INTERVAL_MINUTES: String(s.intervalMinutes),
            BACKUP_RETENTION: String(s.retention),
            GRAFANA_DATA_DIR: p.grafanaData,
            PROMETHEUS_DATA_DIR: p.prometheusData,
            PROMETHEUS_URL: args.prometheusUrl,
            BACKUP_TEXTFILE_DIR: p.textfile,
        },
        limits: args.limits ?? { memoryMb: 256, cpus: 0.5 },
        // Healthy once a run has written its metrics; the first run starts a minute after the job.
        healthcheck: {
            test: ["CMD-SHELL", `test -s ${p.textfile}/${backupMetricsFile}`],
            intervalSeconds: 60,
            startPeriodSeconds: 180,
        },
        aliases: [backupAlias],
        volumes: [
            { volumeName: args.grafanaVolumeName, containerPath: p.grafanaData, readOnly: true },
            // Read-write only so the job can delete the snapshot it asked Prometheus for.
            { volumeName: args.prometheusVolumeName, containerPath: p.prometheusData },
            { volumeName: metricsVolume, containerPath: p.textfile },
            ...(archivesVolume ? [{ volumeName: archivesVolume, containerPath: p.backups }] : []),
        ],
        hostMounts: s.hostPath ? [{ hostPath: s.hostPath, containerPath: p.backups, readOnly: false }] : [],
        // Root, to read data owned by Grafana's uid 472 and Prometheus' 65534 and keep their
        // owners in the archives; it publishes no port and its root filesystem is read-only.
        user: "0:0",
        readOnlyRootFs: true,
        tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" },
        stopTimeoutSeconds: 30,
    };
}
