import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { dataVolume, DataServiceArgs } from "../../targets/docker/dataVolume";
import { runOnDocker } from "../../targets/docker/runner";
import { dashboardFiles, renderGrafanaDashboardProvider, renderGrafanaDatasources } from "./grafanaProvisioning";
import { liveFilesContainerOptions, LiveFiles } from "../../targets/docker/liveFiles";
import { Limits, Workload, WorkloadFile } from "../../components/platform/workload";

/** The uid the Grafana image runs as. */
const grafanaUid = "472";
const adminPasswordPath = "/etc/grafana/secrets/admin_password";
const dashboardsPath = "/etc/grafana/dashboards";

export interface GrafanaServerArgs extends DataServiceArgs {
    /** Pinned Grafana image. */
    readonly image: string;
    /** URL of Prometheus on the platform network. */
    readonly prometheusUrl: string;
    /** Bump to generate a new admin password; the running Grafana is given it on the next `pulumi up`. */
    readonly passwordRotation: number;
    /** The public URL when served by nginx under /grafana/; undefined keeps Grafana local. */
    readonly publicUrl?: string;
    /** Limits; default 512 MB and 0.5 CPU. */
    readonly limits?: Limits;
}

/**
 * Grafana with its data on a volume, the Prometheus datasource and the dashboards
 * provisioned from files, and an admin password from @pulumi/random given through
 * GF_SECURITY_ADMIN_PASSWORD__FILE. Grafana reads that file only on its first start, so a
 * rotated password is also set in the running Grafana with `grafana cli`.
 */
export class GrafanaServer extends pulumi.ComponentResource {
    public readonly adminPassword: pulumi.Output<string>;
    public readonly containerName: pulumi.Output<string>;
    public readonly volumeName: pulumi.Output<string>;

    constructor(name: string, args: GrafanaServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:GrafanaServer", name, {}, opts);
        this.adminPassword = grafanaAdminPassword(`${name}-admin-password`, args.passwordRotation, this);
        const volume = dataVolume(`${name}-data`, args.volumeName, args.retainVolume, this);
        const workload = grafanaWorkload(args, this.adminPassword, volume.name);
        const files = workload.files ?? [];
        const container = runOnDocker(`${name}-grafana`, workload, args.placement, {
            parent: this,
            deleteBeforeReplace: true,
            ...liveFilesContainerOptions,
        });
        new LiveFiles(
            `${name}-files`,
            {
                container,
                files,
                // Dashboards are re-read by the provider every 30 s; the password needs the CLI.
                reload: { exec: ["sh", "-c", resetAdminPassword], user: grafanaUid },
            },
            { parent: this },
        );
        this.containerName = container.name;
        this.volumeName = volume.name;
        this.registerOutputs({ adminPassword: this.adminPassword, containerName: this.containerName, volumeName: this.volumeName });
    }
}

/** Grafana's admin password from @pulumi/random; a new one whenever `rotation` changes. */
export function grafanaAdminPassword(name: string, rotation: number, parent: pulumi.Resource): pulumi.Output<string> {
    const password = new random.RandomPassword(
        name,
        { length: 32, special: true, overrideSpecial: "-_.~", keepers: { rotation: String(rotation) } },
        { parent },
    );
    return pulumi.secret(password.result);
}

/** Sets the admin password from its file in a Grafana that has already started once (it reads the file only on its first start). */
export const resetAdminPassword = `grafana cli --homepath /usr/share/grafana admin reset-admin-password --password-from-stdin < ${adminPasswordPath}`;

/** What Grafana runs, on either target: the password as a 0400 secret file, provisioning and dashboards as files. */
export function grafanaWorkload(
    args: Pick<GrafanaServerArgs, "image" | "prometheusUrl" | "publicUrl" | "limits" | "hostPort" | "bindAddress">,
    adminPassword: pulumi.Input<string>,
    volumeName: pulumi.Input<string>,
): Workload {
    const files: WorkloadFile[] = [
        { path: adminPasswordPath, content: adminPassword, mode: "0400", owner: grafanaUid, secret: true },
        { path: "/etc/grafana/provisioning/datasources/prometheus.yml", content: renderGrafanaDatasources(args.prometheusUrl) },
        { path: "/etc/grafana/provisioning/dashboards/clinical-bdd.yml", content: renderGrafanaDashboardProvider(dashboardsPath) },
        ...dashboardFiles().map((d) => ({ path: `${dashboardsPath}/${d.name}`, content: d.content })),
    ];
    return {
        image: args.image,
        envs: grafanaEnvs(args.publicUrl),
        files,
        limits: args.limits ?? { memoryMb: 512, cpus: 0.5 },
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/api/health"], startPeriodSeconds: 30 },
        aliases: ["grafana"],
        volumes: [{ volumeName, containerPath: "/var/lib/grafana" }],
        ports: [{ internal: 3000, external: args.hostPort, ip: args.bindAddress }],
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
