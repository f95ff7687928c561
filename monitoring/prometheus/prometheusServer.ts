import * as pulumi from "@pulumi/pulumi";
import { dataVolume, DataServiceArgs } from "../../targets/docker/dataVolume";
import { runOnDocker } from "../../targets/docker/runner";
import { liveFilesContainerOptions, LiveFiles } from "../../targets/docker/liveFiles";
import { prometheusContainerPaths } from "./prometheusConfig";
import { alertRulesFileName } from "./alertRules";
import { Limits, Workload, WorkloadFile } from "../../components/platform/workload";

export interface PrometheusServerArgs extends DataServiceArgs {
    /** Pinned Prometheus image. */
    readonly image: string;
    /** Rendered prometheus.yml and alert rules. */
    readonly config: string;
    readonly alertRules: string;
    /** The command-line flags (prometheusArgs). */
    readonly args: readonly string[];
    /** Limits; default 1024 MB and 1 CPU. */
    readonly limits?: Limits;
}

/** Prometheus with its TSDB on a volume; new config and rules are pushed and reloaded (SIGHUP), never restarted. */
export class PrometheusServer extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;
    public readonly volumeName: pulumi.Output<string>;

    constructor(name: string, args: PrometheusServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:PrometheusServer", name, {}, opts);
        const paths = prometheusContainerPaths;
        const volume = dataVolume(`${name}-data`, args.volumeName, args.retainVolume, this);
        const workload = prometheusWorkload(args, volume.name);
        const files = workload.files ?? [];
        const container = runOnDocker(`${name}-prometheus`, workload, args.placement, {
            parent: this,
            deleteBeforeReplace: true,
            ...liveFilesContainerOptions,
        });
        new LiveFiles(
            `${name}-config`,
            { container, files, check: ["promtool", "check", "config", paths.configFile], reload: { signal: "HUP" } },
            { parent: this },
        );
        this.containerName = container.name;
        this.volumeName = volume.name;
        this.registerOutputs({ containerName: this.containerName, volumeName: this.volumeName });
    }
}

/** What Prometheus runs, on either target: its config and rules as files, its TSDB on a volume. */
export function prometheusWorkload(
    args: Pick<PrometheusServerArgs, "image" | "config" | "alertRules" | "args" | "limits" | "hostPort" | "bindAddress">,
    volumeName: pulumi.Input<string>,
): Workload {
    const paths = prometheusContainerPaths;
    const files: WorkloadFile[] = [
        { path: paths.configFile, content: args.config },
        { path: `${paths.rulesDir}/${alertRulesFileName}`, content: args.alertRules },
    ];
    return {
        image: args.image,
        command: args.args,
        files,
        limits: args.limits ?? { memoryMb: 1024, cpus: 1 },
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/healthy"], startPeriodSeconds: 30 },
        aliases: ["prometheus"],
        volumes: [{ volumeName, containerPath: paths.storageDir }],
        ports: [{ internal: 9090, external: args.hostPort, ip: args.bindAddress }],
        user: "65534:65534",
        stopTimeoutSeconds: 60,
    };
}
