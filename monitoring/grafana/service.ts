import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Settings } from "../../components/platform/settings";
import { PlatformFacts, ServiceGroup } from "../../components/platform/service";
import { dockerTopology as t } from "../../components/platform/topology";
import { publicUrls } from "../../components/platform/urls";
import { Workload, WorkloadFile } from "../../components/platform/workload";
import { prometheusInternalUrl } from "../prometheus/service";
import { dashboardFiles, renderGrafanaDashboardProvider, renderGrafanaDatasources } from "./grafanaProvisioning";

/** The uid the Grafana image runs as. */
const grafanaUid = "472";
const adminPasswordPath = "/etc/grafana/secrets/admin_password";
const dashboardsPath = "/etc/grafana/dashboards";

/**
 * Grafana with its data on a volume, the Prometheus datasource and the dashboards
 * provisioned from files, and an admin password from @pulumi/random given through
 * GF_SECURITY_ADMIN_PASSWORD__FILE. Grafana reads that file only on its first start, so a
 * rotated password is also set with `grafana cli`: in the running Grafana on one host, before
 * the server starts on Swarm (a new secret rolls the service).
 */
export function grafanaService(settings: Settings, facts: PlatformFacts): ServiceGroup {
    const volumeName = grafanaVolumeName(facts);
    const publicUrl = settings.monitoring.publicGrafana ? publicUrls(settings).grafanaUrl : undefined;
    return {
        name: "dashboards",
        componentType: "clinicalbdd:platform:GrafanaServer",
        volumes: [{ key: volumeName, resourceName: "dashboards-data", dockerName: volumeName, data: { retain: settings.monitoring.retainDataVolumes } }],
        declare: (parent) => {
            const adminPassword = grafanaAdminPassword("dashboards-admin-password", settings.monitoring.grafanaPasswordRotation, parent);
            return {
                parts: [
                    {
                        name: "dashboards-grafana",
                        workload: grafanaWorkload(settings, publicUrl, adminPassword, volumeName),
                        exclusive: "data",
                        // Dashboards are re-read by the provider every 30 s; the password needs the CLI.
                        liveFiles: { name: "files", reload: { exec: ["sh", "-c", resetAdminPassword], user: grafanaUid } },
                        swarm: { entrypoint: ["sh", "-c", `${resetAdminPassword} >/dev/null 2>&1 || true; exec /run.sh`] },
                    },
                ],
                outputs: { grafanaAdminPassword: adminPassword },
            };
        },
    };
}

/** The Docker name of Grafana's data volume, which the backup job reads too. */
export function grafanaVolumeName(facts: PlatformFacts): string {
    return `${facts.volumePrefix}-grafana-data`;
}

/** Grafana's admin password from @pulumi/random; a new one whenever `rotation` changes. */
function grafanaAdminPassword(name: string, rotation: number, parent: pulumi.Resource): pulumi.Output<string> {
    const password = new random.RandomPassword(
        name,
        { length: 32, special: true, overrideSpecial: "-_.~", keepers: { rotation: String(rotation) } },
        { parent },
    );
    return pulumi.secret(password.result);
}

/** Sets the admin password from its file in a Grafana that has already started once (it reads the file only on its first start). */
export const resetAdminPassword = `grafana cli --homepath /usr/share/grafana admin reset-admin-password --password-from-stdin < ${adminPasswordPath}`;

/** What Grafana runs: the password as a 0400 secret file, provisioning and dashboards as files. */
function grafanaWorkload(settings: Settings, publicUrl: string | undefined, adminPassword: pulumi.Input<string>, volumeName: string): Workload {
    const files: WorkloadFile[] = [
        { path: adminPasswordPath, content: adminPassword, mode: "0400", owner: grafanaUid, secret: true },
        { path: "/etc/grafana/provisioning/datasources/prometheus.yml", content: renderGrafanaDatasources(prometheusInternalUrl) },
        { path: "/etc/grafana/provisioning/dashboards/clinical-bdd.yml", content: renderGrafanaDashboardProvider(dashboardsPath) },
        ...dashboardFiles().map((d) => ({ path: `${dashboardsPath}/${d.name}`, content: d.content })),
    ];
    return {
        image: settings.images.grafana,
        envs: grafanaEnvs(publicUrl),
        files,
        limits: { memoryMb: 512, cpus: 0.5 },
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${t.grafana.port}/api/health`], startPeriodSeconds: 30 },
        aliases: [t.grafana.alias],
        volumes: [{ volumeName, containerPath: "/var/lib/grafana" }],
        ports: [{ internal: t.grafana.port, external: settings.ports.grafana, ip: settings.ports.monitoringBindAddress }],
        user: grafanaUid,
    };
}

function grafanaEnvs(publicUrl: string | undefined): Record<string, string> {
    return {
        GF_SECURITY_ADMIN_USER: "admin",
        GF_SECURITY_ADMIN_PASSWORD__FILE: adminPasswordPath,
        GF_USERS_ALLOW_SIGN_UP: "false",
        GF_AUTH_ANONYMOUS_ENABLED: "false",
        GF_ANALYTICS_REPORTING_ENABLED: "false",
        GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
        ...(publicUrl
            ? { GF_SERVER_ROOT_URL: publicUrl, GF_SERVER_SERVE_FROM_SUB_PATH: "true", GF_SECURITY_COOKIE_SECURE: "true" }
            : {}),
    };
}
