import * as pulumi from "@pulumi/pulumi";
import { dataVolume, DataServiceArgs } from "../../targets/docker/dataVolume";
import { runOnDocker } from "../../targets/docker/runner";
import { liveFilesContainerOptions, LiveFiles } from "../../targets/docker/liveFiles";
import { Limits, Workload, WorkloadFile } from "../../components/platform/workload";

export const alertmanagerConfigPath = "/etc/alertmanager/alertmanager.yml";
export const smtpPasswordPath = "/etc/alertmanager/secrets/smtp_password";

export interface AlertmanagerServerArgs extends DataServiceArgs {
    /** Pinned Alertmanager image. */
    readonly image: string;
    /** Rendered alertmanager.yml; a secret Output when it holds the webhook URL. */
    readonly config: pulumi.Input<string>;
    /** The SMTP password (secret), written to smtpPasswordPath; default none (no file: Docker refuses empty uploads). */
    readonly smtpPassword?: pulumi.Input<string>;
    /** Limits; default 256 MB and 0.2 CPU. */
    readonly limits?: Limits;
}

/** Alertmanager: routes Prometheus' alerts to the operators; config pushed and reloaded (SIGHUP). */
export class AlertmanagerServer extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: AlertmanagerServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:AlertmanagerServer", name, {}, opts);
        const volume = dataVolume(`${name}-data`, args.volumeName, args.retainVolume, this);
        const workload = alertmanagerWorkload(args, volume.name);
        const files = workload.files ?? [];
        const container = runOnDocker(`${name}-alertmanager`, workload, args.placement, {
            parent: this,
            deleteBeforeReplace: true,
            ...liveFilesContainerOptions,
        });
        new LiveFiles(
            `${name}-config`,
            { container, files, check: ["amtool", "check-config", alertmanagerConfigPath], reload: { signal: "HUP" } },
            { parent: this },
        );
        this.containerName = container.name;
        this.registerOutputs({ containerName: this.containerName });
    }
}

/** What Alertmanager runs, on either target: its config and SMTP password as 0400 secret files. */
export function alertmanagerWorkload(
    args: Pick<AlertmanagerServerArgs, "image" | "config" | "smtpPassword" | "limits" | "hostPort" | "bindAddress">,
    volumeName: pulumi.Input<string>,
): Workload {
    const files: WorkloadFile[] = [
        { path: alertmanagerConfigPath, content: args.config, mode: "0400", owner: "65534", secret: true },
        ...(args.smtpPassword ? [{ path: smtpPasswordPath, content: args.smtpPassword, mode: "0400", owner: "65534", secret: true }] : []),
    ];
    return {
        image: args.image,
        command: [`--config.file=${alertmanagerConfigPath}`, "--storage.path=/alertmanager", "--web.listen-address=:9093"],
        files,
        limits: args.limits ?? { memoryMb: 256, cpus: 0.2 },
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9093/-/healthy"] },
        aliases: ["alertmanager"],
        volumes: [{ volumeName, containerPath: "/alertmanager" }],
        ports: [{ internal: 9093, external: args.hostPort, ip: args.bindAddress }],
        user: "65534:65534",
    };
}
