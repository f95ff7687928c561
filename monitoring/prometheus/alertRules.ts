import { stringify } from "yaml";
import { scrapeJobs, yamlOptions } from "./prometheusConfig";
import type { Settings } from "../../components/platform/settings";

/**
 * The numbers of the production guide (the Clinical BDD Creator's PRODUCTION-README.md),
 * each with the line it comes from. The alert rules below implement them.
 */
export const productionGuideThresholds = Object.freeze({
    /** Line 255, Alert Configuration: "Service down for > 5 minutes". */
    serviceDownFor: "5m",
    /** Line 256, Alert Configuration: "Memory usage > 90%". */
    memoryUsedRatio: 0.9,
    /** Line 257, Alert Configuration: "Error rate > 5%". */
    errorRatio: 0.05,
    /** Line 258, Alert Configuration: "Response time > 10 seconds" (taken as the 95th percentile). */
    responseTimeSeconds: 10,
    /** Line 150, Troubleshooting / Slow Response Times: "Symptoms: P95 latency > 5 seconds". */
    slowP95Seconds: 5,
    /** Line 259, Alert Configuration: "Disk usage > 85%". */
    diskUsedRatio: 0.85,
});
export type AlertThresholds = typeof productionGuideThresholds;

/**
 * How long every other condition must hold before it fires. The guide gives 5 minutes for
 * "service down"; using it everywhere keeps one escalation timeline (fire at 5 min,
 * Alertmanager notifies within its group_wait) and rides out a replica's rolling replacement.
 */
export const alertFor = productionGuideThresholds.serviceDownFor;

/** Share of the concurrency limit at which a replica counts as saturated (not in the guide). */
export const concurrencySaturationRatio = 0.9;

/** The file name the rules are uploaded as, inside PrometheusPaths.rulesDir. */
export const alertRulesFileName = "clinical-bdd-alerts.yml";

export type Severity = "critical" | "warning";

export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    readonly for: string;
    readonly labels: { readonly severity: Severity };
    readonly annotations: { readonly summary: string; readonly description: string };
}

/** The alert rules as data; renderAlertRules writes them as a Prometheus rules file. */
export function alertRuleGroups(
    settings: Settings,
    thresholds: AlertThresholds = productionGuideThresholds,
): { name: string; rules: AlertRule[] }[] {
    const app = `job="${scrapeJobs.app}"`;
    const probe = `job="${scrapeJobs.blackbox}"`;
    const replicasUp = `(count(up{${app}} == 1) or vector(0))`;
    const p95 = `histogram_quantile(0.95, sum by (le) (rate(clinical_bdd_http_request_duration_seconds_bucket{${app}}[5m])))`;
    // Pseudo-filesystems are not disks; their usage means nothing.
    const disks = `fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.lxcfs"`;
    const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`;
    const rule = (alert: string, severity: Severity, expr: string, summary: string, description: string): AlertRule => ({
        alert,
        expr,
        for: alertFor,
        labels: { severity },
        annotations: { summary, description },
    });
    const investigate = "run `npm run status` to see the containers and `npm run logs app` for the cause";

    return [
        {
            name: "clinical-bdd-availability",
            rules: [
                rule(
                    "AppDown",
                    "critical",
                    `${replicasUp} == 0`,
                    "No app replica is up: the Clinical BDD Creator is down",
                    `Prometheus has reached no app replica for ${alertFor}. ${capitalised(investigate)}; ` +
                        "then `pulumi up` recreates missing replicas. If they were OOM-killed, raise " +
                        "`pulumi config set appMemoryMb …`; if a bad image, set `appImage` back to the last good one.",
                ),
                rule(
                    "HealthCheckFailing",
                    "critical",
                    `probe_success{${probe}} == 0`,
                    "{{ $labels.instance }} fails over HTTPS: users cannot reach the service",
                    `The blackbox prober has not fetched {{ $labels.instance }} with a 2xx for ${alertFor} ` +
                        "(through nginx and TLS, as a user would). Run `npm run status`; `npm run logs nginx` " +
                        "and `npm run logs app`; if nginx is down or its certificate is broken, `pulumi up` " +
                        "restores it; if only the app is down, see AppDown.",
                ),
                rule(
                    "AppReplicasBelowConfigured",
                    "warning",
                    `${replicasUp} < ${settings.replicas}`,
                    `Only {{ $value }} of ${settings.replicas} configured app replicas are up`,
                    `Fewer app replicas than the configured replicas=${settings.replicas} answer Prometheus ` +
                        `for ${alertFor}; the rest carry their load. ${capitalised(investigate)}; then ` +
                        "`pulumi up` recreates them. If the host cannot hold them, lower " +
                        "`pulumi config set replicas …` or give the host more memory.",
                ),
                rule(
                    "ScrapeTargetMissing",
                    "warning",
                    "up == 0",
                    "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}",
                    `The {{ $labels.job }} target {{ $labels.instance }} has not answered for ${alertFor}; ` +
                        "its metrics and the alerts built on them are blind. Run `npm run status` to find the " +
                        "container behind it and `npm run logs <that container>` for why it stopped; " +
                        "`pulumi up` recreates a container that is gone.",
                ),
            ],
        },
        {
            name: "clinical-bdd-resources",
            rules: [
                rule(
                    "ContainerMemoryHigh",
                    "critical",
                    `container_memory_working_set_bytes{name!=""} / (container_spec_memory_limit_bytes{name!=""} > 0) > ${thresholds.memoryUsedRatio}`,
                    "Container {{ $labels.name }} uses {{ $value | humanizePercentage }} of its memory limit",
                    `The working set of {{ $labels.name }} has been above ${percent(thresholds.memoryUsedRatio)} ` +
                        `of its limit for ${alertFor}; at 100% the kernel kills it. Run \`npm run status\` and ` +
                        "`npm run logs app` (large guidelines?); raise `pulumi config set appMemoryMb …` " +
                        "or add replicas with `pulumi config set replicas …`, then `pulumi up`.",
                ),
                rule(
                    "HostMemoryHigh",
                    "critical",
                    `1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > ${thresholds.memoryUsedRatio}`,
                    "The Docker host uses {{ $value | humanizePercentage }} of its memory",
                    `Less than ${percent(1 - thresholds.memoryUsedRatio)} of the host's memory has been ` +
                        `available for ${alertFor}. Run \`npm run status\` to see which container grows; ` +
                        "lower `pulumi config set replicas …` or `appMemoryMb`, or give the host more memory.",
                ),
                rule(
                    "HostDiskFull",
                    "critical",
                    `1 - node_filesystem_avail_bytes{${disks}} / node_filesystem_size_bytes{${disks}} > ${thresholds.diskUsedRatio}`,
                    "Filesystem {{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full",
                    `{{ $labels.mountpoint }} on {{ $labels.device }} has been above ` +
                        `${percent(thresholds.diskUsedRatio)} used for ${alertFor}. Run \`df -h\` and ` +
                        "`docker system df`; remove unused images with `docker image prune`; container logs " +
                        "are capped by `logMaxSize`/`logMaxFiles`, Prometheus data by `prometheusRetention` " +
                        "(`pulumi config set …`, then `pulumi up`).",
                ),
            ],
        },
        {
            name: "clinical-bdd-requests",
            rules: [
                rule(
                    "HighErrorRate",
                    "critical",
                    `sum(rate(clinical_bdd_http_requests_total{${app},status=~"5.."}[5m])) / sum(rate(clinical_bdd_http_requests_total{${app}}[5m])) > ${thresholds.errorRatio}`,
                    "{{ $value | humanizePercentage }} of requests fail with 5xx",
                    `More than ${percent(thresholds.errorRatio)} of the app's requests have ended in a 5xx ` +
                        `for ${alertFor}. ${capitalised(investigate)}. 503s with reason concurrency_limit ` +
                        "mean too few replicas: `pulumi config set replicas …` and `pulumi up`; " +
                        "after a deploy, set `appImage` back to the last good image.",
                ),
                rule(
                    "HighResponseTime",
                    "critical",
                    `${p95} > ${thresholds.responseTimeSeconds}`,
                    "95th percentile response time is {{ $value | humanizeDuration }}",
                    `More than 5% of requests have taken over ${thresholds.responseTimeSeconds} s for ` +
                        `${alertFor}. Run \`npm run status\` for CPU and memory, \`npm run logs app\` for slow ` +
                        "guidelines; add replicas (`pulumi config set replicas …`) or CPU " +
                        "(`pulumi config set appCpus …`), then `pulumi up`.",
                ),
                rule(
                    "SlowResponses",
                    "warning",
                    `${p95} > ${thresholds.slowP95Seconds}`,
                    "95th percentile response time is {{ $value | humanizeDuration }}",
                    `The 95th percentile has been above ${thresholds.slowP95Seconds} s for ${alertFor} ` +
                        "(the production guide's \"slow\"). Check the Grafana overview for CPU, memory and " +
                        "in-flight requests; `npm run logs app` for the slow endpoints; consider " +
                        "`pulumi config set replicas …` or `appCpus`.",
                ),
                rule(
                    "ConcurrencySaturated",
                    "warning",
                    `sum by (instance) (clinical_bdd_http_requests_in_flight{${app}}) / max by (instance) (clinical_bdd_max_concurrent_requests{${app}}) >= ${concurrencySaturationRatio}`,
                    "Replica {{ $labels.instance }} works at {{ $value | humanizePercentage }} of its concurrency limit",
                    `{{ $labels.instance }} has had at least ${percent(concurrencySaturationRatio)} of ` +
                        `maxConcurrentRequests in flight for ${alertFor}; further requests get 503. Add ` +
                        "replicas with `pulumi config set replicas …` (or raise `maxConcurrentRequests` " +
                        "if CPU and memory allow), then `pulumi up`.",
                ),
            ],
        },
        {
            name: "clinical-bdd-backups",
            rules: [backupTooOld(settings)],
        },
        {
            name: "clinical-bdd-tls",
            rules: [
                rule(
                    "TlsCertificateExpiringSoon",
                    "warning",
                    `(probe_ssl_earliest_cert_expiry{${probe}} - time()) / 86400 < ${settings.tls.renewBeforeDays}`,
                    "The TLS certificate of {{ $labels.instance }} expires in {{ $value | humanize }} days",
                    `The certificate nginx serves expires within tlsRenewBeforeDays (${settings.tls.renewBeforeDays}). ` +
                        "Run `pulumi up`: inside that window it issues a new certificate and reloads nginx. " +
                        "To replace it at once, `pulumi config set tlsRotation <current + 1>` and `pulumi up`.",
                ),
            ],
        },
    ];
}

/** The Prometheus rules file (clinical-bdd-alerts.yml) with every alert of the platform. */
export function renderAlertRules(settings: Settings, thresholds: AlertThresholds = productionGuideThresholds): string {
    return stringify({ groups: alertRuleGroups(settings, thresholds) }, yamlOptions);
}

/**
 * The newest backup of a service (or none at all) is older than twice the one-hour RPO, or
 * twice the configured interval when that is longer: at least one run has failed.
 */
function backupTooOld(settings: Settings): AlertRule {
    const maxAgeSeconds = Math.max(backupMaxAgeSeconds, 2 * settings.backup.intervalMinutes * 60);
    const age = maxAgeSeconds % 3600 === 0 ? `${maxAgeSeconds / 3600} hours` : `${maxAgeSeconds / 60} minutes`;
    const metric = "clinical_bdd_backup_last_success_timestamp_seconds";
    const node = `job="${scrapeJobs.node}"`;
    return {
        alert: "BackupTooOld",
        expr:
            `time() - max by (service) (${metric}{${node}}) > ${maxAgeSeconds}` +
            backupServices.map((service) => ` or absent(${metric}{${node},service="${service}"})`).join(""),
        for: alertFor,
        labels: { severity: "critical" },
        annotations: {
            summary: `No {{ $labels.service }} backup in the last ${age}`,
            description:
                `The newest {{ $labels.service }} backup archive is older than ${age} (or there is none), so the ` +
                "one-hour RPO no longer holds. Run `npm run status` (is the backup container healthy?), " +
                "`npm run logs backup` for the failing step (Prometheus' admin API, disk space, the backup " +
                "volume or backupHostPath), then `npm run backup` to take one now.",
        },
    };
}

/** The services backup/backup.sh archives, each with its own timestamp. */
export const backupServices = ["grafana", "prometheus"] as const;
/** BackupTooOld's age limit: twice the RPO of one hour. */
export const backupMaxAgeSeconds = 2 * 3600;

function capitalised(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}
