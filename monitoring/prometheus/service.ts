import { Settings } from "../../components/platform/settings";
import { PlatformFacts, ServiceGroup } from "../../components/platform/service";
import { dockerScrapeTargets, dockerTopology as t, swarmScrapeTargets } from "../../components/platform/topology";
import { Workload, WorkloadFile } from "../../components/platform/workload";
import { alertRulesFileName, renderAlertRules } from "./alertRules";
import { prometheusArgs, prometheusContainerPaths, renderPrometheusConfig } from "./prometheusConfig";

/** Prometheus with its TSDB on a volume; new config and rules are checked by promtool and reloaded (SIGHUP), never restarted. */
export function prometheusService(settings: Settings, facts: PlatformFacts): ServiceGroup {
    const volumeName = prometheusVolumeName(facts);
    const targets = settings.platform === "swarm" ? swarmScrapeTargets() : dockerScrapeTargets();
    return {
        name: "metrics",
        componentType: "clinicalbdd:platform:PrometheusServer",
        volumes: [{ key: volumeName, resourceName: "metrics-data", dockerName: volumeName, data: { retain: settings.monitoring.retainDataVolumes } }],
        declare: () => ({
            parts: [
                {
                    name: "metrics-prometheus",
                    workload: prometheusWorkload(renderPrometheusConfig(settings, targets), renderAlertRules(settings), prometheusArgs(settings), settings, volumeName),
                    exclusive: "data",
                    liveFiles: { name: "config", check: ["promtool", "check", "config", prometheusContainerPaths.configFile], reload: { signal: "HUP" } },
                },
            ],
        }),
    };
}

/** The Docker name of Prometheus' data volume, which the backup job reads too. */
export function prometheusVolumeName(facts: PlatformFacts): string {
    return `${facts.volumePrefix}-prometheus-data`;
}

/** Prometheus on the platform network, as Grafana and the backup job reach it. */
export const prometheusInternalUrl = `http://${t.prometheus.alias}:${t.prometheus.port}`;

/** What Prometheus runs: its config and rules as files, its TSDB on a volume. */
function prometheusWorkload(config: string, alertRules: string, args: readonly string[], settings: Settings, volumeName: string): Workload {
    const paths = prometheusContainerPaths;
    const files: WorkloadFile[] = [
        { path: paths.configFile, content: config },
        { path: `${paths.rulesDir}/${alertRulesFileName}`, content: alertRules },
    ];
    return {
        image: settings.images.prometheus,
        command: args,
        files,
        limits: { memoryMb: 1024, cpus: 1 },
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${t.prometheus.port}/-/healthy`], startPeriodSeconds: 30 },
        aliases: [t.prometheus.alias],
        volumes: [{ volumeName, containerPath: paths.storageDir }],
        ports: [{ internal: t.prometheus.port, external: settings.ports.prometheus, ip: settings.ports.monitoringBindAddress }],
        user: "65534:65534",
        stopTimeoutSeconds: 60,
    };
}
