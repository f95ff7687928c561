import * as pulumi from "@pulumi/pulumi";
import { dataVolume } from "./dataVolume";
import { DockerPlacement, runOnDocker } from "./dockerContainer";
import { liveFilesContainerOptions, LiveFiles } from "./liveFiles";
import { prometheusContainerPaths } from "./prometheusConfig";
import { alertRulesFileName } from "./alertRules";
import { Workload, WorkloadFile } from "./workload";

export interface PrometheusServerArgs {
    /** Pinned Prometheus image. */
    readonly image: string;
    /** Rendered prometheus.yml and alert rules. */
    readonly config: string;
    readonly alertRules: string;
    /** The command-line flags (prometheusArgs). */
    readonly args: readonly string[];
    /** Host address and port the UI/API is published on (127.0.0.1 by default). */
    readonly bindAddress: string;
    readonly hostPort: number;
    /** Docker name of the TSDB volume, and whether destroy keeps it. */
    readonly volumeName: string;
    readonly retainVolume: boolean;
    readonly placement: DockerPlacement;
    /** Limits; default 1024 MB and 1 CPU. */
    readonly limits?: { readonly memoryMb: number; readonly cpus: number };
}

/** Prometheus with its TSDB on a volume; new config and rules are pushed and reloaded (SIGHUP), never restarted. */
export class PrometheusServer extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;
    public readonly volumeName: pulumi.Output<string>;

    constructor(name: string, args: PrometheusServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:PrometheusServer", name, {}, opts);
        const paths = prometheusContainerPaths;
        const volume = dataVolume(`${name}-data`, args.volumeName, args.retainVolume, this);
        const files: WorkloadFile[] = [
            { path: paths.configFile, content: args.config },
            { path: `${paths.rulesDir}/${alertRulesFileName}`, content: args.alertRules },
        ];
        const workload: Workload = {
            image: args.image,
            command: args.args,
            files,
            limits: args.limits ?? { memoryMb: 1024, cpus: 1 },
            healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/healthy"], startPeriodSeconds: 30 },
            aliases: ["prometheus"],
            volumes: [{ volumeName: volume.name, containerPath: paths.storageDir }],
            ports: [{ internal: 9090, external: args.hostPort, ip: args.bindAddress }],
            user: "65534:65534",
            stopTimeoutSeconds: 60,
        };
        const container = runOnDocker(`${name}-prometheus`, workload, args.placement, {
            parent: this,
            deleteBeforeReplace: true,
            ...liveFilesContainerOptions,
        });
        new LiveFiles(
            `${name}-config`,
            { container, files, check: ["promtool", "check", "config", paths.configFile], reload: ["kill", "-HUP", "1"] },
            { parent: this },
        );
        this.containerName = container.name;
        this.volumeName = volume.name;
        this.registerOutputs({ containerName: this.containerName, volumeName: this.volumeName });
    }
}
