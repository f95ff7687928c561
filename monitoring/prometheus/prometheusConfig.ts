import { stringify } from "yaml";
import type { Settings } from "../../components/platform/settings";
import type { ScrapeTarget, ScrapeTargets } from "../../components/platform/topology";

/**
 * How every monitoring renderer writes YAML: no line folding (PromQL and URLs stay on one
 * line) and no anchors/aliases for repeated objects (each receiver reads on its own).
 */
export const yamlOptions = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** The scrape job names; alert rules and dashboards select on these. */
export const scrapeJobs = {
    app: "app",
    nginx: "nginx",
    node: "node",
    cadvisor: "cadvisor",
    blackbox: "blackbox",
    blackboxExporter: "blackbox-exporter",
    alertmanager: "alertmanager",
    prometheus: "prometheus",
} as const;

/** The blackbox module that fetches the health URL over HTTPS (see blackboxConfig.ts). */
export const healthProbeModule = "http_2xx";

/** Where Prometheus finds its files. The container's paths by default; the rehearsal passes its own. */
export interface PrometheusPaths {
    /** The configuration file Prometheus reads (default /etc/prometheus/prometheus.yml). */
    readonly configFile: string;
    /** Directory of the rule files; every *.yml in it is loaded (default /etc/prometheus/rules). */
    readonly rulesDir: string;
    /** The TSDB directory (default /prometheus, the image's volume). */
    readonly storageDir: string;
}

export const prometheusContainerPaths: PrometheusPaths = Object.freeze({
    configFile: "/etc/prometheus/prometheus.yml",
    rulesDir: "/etc/prometheus/rules",
    storageDir: "/prometheus",
});

/** How often targets are scraped and rules evaluated; alert `for` durations are multiples of it. */
export const scrapeInterval = "15s";

/**
 * prometheus.yml: every part of the platform scraped, the alert rules loaded from
 * `paths.rulesDir`, alerts sent to Alertmanager. Retention is not here: it is a flag
 * (see prometheusArgs).
 */
export function renderPrometheusConfig(
    settings: Settings,
    targets: ScrapeTargets,
    paths: PrometheusPaths = prometheusContainerPaths,
): string {
    const staticJob = (job: string, target: ScrapeTarget): object =>
        typeof target === "string"
            ? { job_name: job, static_configs: [{ targets: [target] }] }
            : { job_name: job, dns_sd_configs: [{ names: [target.dnsName], type: "A", port: target.port, refresh_interval: "15s" }] };
    const jobs: object[] = [
        {
            job_name: scrapeJobs.app,
            // One A record per replica behind the alias: scaling adds and removes targets
            // within a refresh, with no config change and no reload.
            dns_sd_configs: [
                { names: [targets.app.dnsName], type: "A", port: targets.app.port, refresh_interval: "15s" },
            ],
        },
        staticJob(scrapeJobs.nginx, targets.nginxExporter),
        staticJob(scrapeJobs.node, targets.nodeExporter),
        ...(targets.cadvisor ? [staticJob(scrapeJobs.cadvisor, targets.cadvisor)] : []),
        {
            job_name: scrapeJobs.blackbox,
            metrics_path: "/probe",
            params: { module: [healthProbeModule] },
            static_configs: [{ targets: [targets.healthUrl] }],
            // The probed URL becomes the exporter's ?target= and the series' instance;
            // the scrape itself goes to the exporter.
            relabel_configs: [
                { source_labels: ["__address__"], target_label: "__param_target" },
                { source_labels: ["__param_target"], target_label: "instance" },
                { target_label: "__address__", replacement: targets.blackboxExporter },
            ],
        },
        staticJob(scrapeJobs.blackboxExporter, targets.blackboxExporter),
        staticJob(scrapeJobs.alertmanager, targets.alertmanager),
        staticJob(scrapeJobs.prometheus, targets.prometheus),
    ];
    const config = {
        global: {
            scrape_interval: scrapeInterval,
            evaluation_interval: scrapeInterval,
            // Attached to every alert, so a notification says which deployment it is from.
            external_labels: { platform: settings.project, domain: settings.domain },
        },
        rule_files: [`${paths.rulesDir}/*.yml`],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [targets.alertmanager] }] }] },
        scrape_configs: jobs,
    };
    return stringify(config, yamlOptions);
}

/** The command line of Prometheus: config, storage, retention, and the two web APIs we rely on. */
export function prometheusArgs(
    settings: Settings,
    paths: PrometheusPaths = prometheusContainerPaths,
    listenAddress = "0.0.0.0:9090",
): string[] {
    return [
        `--config.file=${paths.configFile}`,
        `--storage.tsdb.path=${paths.storageDir}`,
        `--storage.tsdb.retention.time=${settings.monitoring.prometheusRetention}`,
        `--web.listen-address=${listenAddress}`,
        // POST /-/reload re-reads prometheus.yml and the rules after `pulumi up` uploads new
        // ones, without a restart that would drop in-memory state and pending alerts.
        "--web.enable-lifecycle",
        // POST /api/v1/admin/tsdb/snapshot is how a backup takes a consistent copy of the
        // TSDB while Prometheus runs. Prometheus is never published without authentication
        // (it binds to monitoringBindAddress), so the admin API is not reachable from outside.
        "--web.enable-admin-api",
    ];
}
