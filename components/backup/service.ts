import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { buildLocalImage } from "../platform/localImage";
import { BackupSettings, Settings } from "../platform/settings";
import { PlatformFacts, ServiceGroup, VolumeDeclaration } from "../platform/service";
import { backupAlias } from "../platform/topology";
import { Workload } from "../platform/workload";
import { grafanaVolumeName } from "../../monitoring/grafana/service";
import { prometheusInternalUrl, prometheusVolumeName } from "../../monitoring/prometheus/service";

/** Where the job finds things inside its container (backup/backup.sh reads them from the environment). */
export const backupContainerPaths = Object.freeze({
    backups: "/backups",
    grafanaData: "/data/grafana",
    prometheusData: "/data/prometheus",
    textfile: "/textfile",
});

/** The file backup.sh writes for node-exporter's textfile collector. */
export const backupMetricsFile = "clinical_bdd_backup.prom";

/**
 * A job that backs up Grafana and Prometheus every `intervalMinutes`: Prometheus through its
 * snapshot API, grafana.db through SQLite's online backup, each as a tar.gz with a sha256
 * beside it, `retention` kept per service, in a volume or a host directory (backup/). It
 * writes the newest archive's time for node-exporter (the BackupTooOld alert), and
 * `npm run backup` / `npm run restore` run the same scripts in it.
 */
export function backupService(settings: Settings, facts: PlatformFacts): ServiceGroup {
    const s = settings.backup;
    const metricsVolume = backupMetricsVolumeName(facts);
    const archivesVolume = s.hostPath ? undefined : `${facts.volumePrefix}-backups`;
    const volumes: VolumeDeclaration[] = [
        // node-exporter reads the job's metrics from it; nothing in it outlives a run.
        { key: metricsVolume, resourceName: "backups-metrics" },
        ...(archivesVolume
            ? [{ key: archivesVolume, resourceName: "backups-archives", dockerName: archivesVolume, data: { retain: settings.monitoring.retainDataVolumes } }]
            : []),
    ];
    return {
        name: "backups",
        componentType: "clinicalbdd:platform:BackupJob",
        volumes,
        // It reads their volumes and asks Prometheus for snapshots.
        after: ["metrics", "dashboards"],
        declare: (parent) => {
            const image = buildLocalImage("backups-image", "clinical-bdd-creator-backup:local", path.join(__dirname, "..", "..", "backup"), parent);
            const workload = backupWorkload(
                { settings: s, prometheusUrl: prometheusInternalUrl, prometheusVolumeName: prometheusVolumeName(facts), grafanaVolumeName: grafanaVolumeName(facts) },
                image,
                metricsVolume,
                archivesVolume,
            );
            return {
                // Healthy only after its first run (minutes): waiting would hold every `pulumi up`; BackupTooOld watches it.
                parts: [{ name: "backups-job", workload, healthyLate: true, swarm: { onDataNode: true } }],
                outputs: { backupLocation: pulumi.output(archivesVolume ?? (s.hostPath as string)) },
            };
        },
    };
}

/** The volume the job writes its metrics into, node-exporter's textfile directory. */
export function backupMetricsVolumeName(facts: PlatformFacts): string {
    return `${facts.volumePrefix}-backup-metrics`;
}

/** What the backup job runs, on either target. */
function backupWorkload(
    args: { settings: BackupSettings; prometheusUrl: string; prometheusVolumeName: string; grafanaVolumeName: string },
    image: pulumi.Output<string>,
    metricsVolume: string,
    archivesVolume: string | undefined,
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
        limits: { memoryMb: 256, cpus: 0.5 },
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
