import * as pulumi from "@pulumi/pulumi";
import { DockerPlacement, runOnDocker } from "../../targets/docker/runner";
import { liveFilesContainerOptions, LiveFiles } from "../../targets/docker/liveFiles";
import { nginxCertificatePath, nginxConfPath, nginxPrivateKeyPath } from "./nginxConf";
import { Limits, Workload, WorkloadFile } from "../platform/workload";

export interface ReverseProxyArgs {
    /** Pinned nginx image. */
    readonly image: string;
    /** The rendered nginx.conf (components/frontDoor/nginxConf.ts). */
    readonly nginxConf: string;
    /** PEM certificate and key (the key is a secret Output). */
    readonly certificatePem: pulumi.Input<string>;
    readonly privateKeyPem: pulumi.Input<string>;
    /** Host ports published on all interfaces: HTTP (redirect) and HTTPS. */
    readonly httpPort: number;
    readonly httpsPort: number;
    /** Internal port of the stub_status server, used by the healthcheck. */
    readonly statusPort: number;
    /** Network and log rotation. */
    readonly placement: DockerPlacement;
    /** Network aliases; default `nginx`. */
    readonly aliases?: readonly string[];
    /** Limits; default 256 MB and 0.5 CPU, plenty for a TLS proxy at this scale. */
    readonly limits?: Limits;
}

/**
 * nginx, the only container published on all interfaces. Its config, certificate and key
 * go in at creation; later changes (renewal, rotation, a new nginx.conf) are pushed into
 * the running container and applied with a graceful `nginx -s reload`, never a restart.
 */
export class ReverseProxy extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;
    /** Hash of the files nginx runs with; changes when a reload is due. */
    public readonly configHash: pulumi.Output<string>;

    constructor(name: string, args: ReverseProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:ReverseProxy", name, {}, opts);
        const workload = nginxWorkload(args);
        const files = workload.files ?? [];
        const container = runOnDocker(`${name}-nginx`, workload, args.placement, {
            parent: this,
            // Fixed host ports: the old container must free them before its successor binds.
            deleteBeforeReplace: true,
            ...liveFilesContainerOptions,
        });
        const live = new LiveFiles(
            `${name}-config`,
            { container, files, check: ["nginx", "-t", "-q"], reload: { signal: "HUP" } },
            { parent: this },
        );
        this.containerName = container.name;
        this.configHash = live.contentHash;
        this.registerOutputs({ containerName: this.containerName, configHash: this.configHash });
    }
}

/** What nginx runs, on either target: nginx.conf, the certificate and the key (a 0400 secret file). */
export function nginxWorkload(
    args: Pick<ReverseProxyArgs, "image" | "nginxConf" | "certificatePem" | "privateKeyPem" | "httpPort" | "httpsPort" | "statusPort" | "aliases" | "limits">,
): Workload {
    const files: WorkloadFile[] = [
        { path: nginxConfPath, content: args.nginxConf, mode: "0444" },
        { path: nginxCertificatePath, content: args.certificatePem, mode: "0444" },
        { path: nginxPrivateKeyPath, content: args.privateKeyPem, mode: "0400", secret: true },
    ];
    return {
        image: args.image,
        files,
        limits: args.limits ?? { memoryMb: 256, cpus: 0.5 },
        healthcheck: {
            test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${args.statusPort}/stub_status`],
            intervalSeconds: 10,
        },
        aliases: args.aliases ?? ["nginx"],
        ports: [
            { internal: 80, external: args.httpPort, ip: "0.0.0.0" },
            { internal: 443, external: args.httpsPort, ip: "0.0.0.0" },
        ],
        tmpfs: { "/tmp": "rw,nosuid,size=64m" },
        stopTimeoutSeconds: 30,
    };
}

