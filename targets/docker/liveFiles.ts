import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { RunOptions } from "./runner";
import { filesHash } from "../../components/platform/filesHash";
import { LiveReload } from "../../components/platform/service";
import { WorkloadFile } from "../../components/platform/workload";

export interface LiveFilesArgs {
    /** The running container to update. */
    readonly container: docker.Container;
    /** Files the container was created with; changes to them are pushed, not re-created. */
    readonly files: readonly WorkloadFile[];
    /** Command that validates the new files, run in a throwaway container of the same image; default none. */
    readonly check?: readonly string[];
    /** How the process picks the files up without a restart. */
    readonly reload: LiveReload;
}

/**
 * Keeps a running container's configuration files current without replacing it: when the
 * content hash changes, scripts/docker-files.js checks the new files in a throwaway
 * container, has the daemon write the ones that differ, and reloads the process. At
 * creation the container already holds them, so nothing is written. The container itself
 * ignores changes to its uploads (see `liveFilesContainerOptions`).
 */
export class LiveFiles extends pulumi.ComponentResource {
    /** sha256 of the files' paths and contents; changes whenever a reload is due. */
    public readonly contentHash: pulumi.Output<string>;

    constructor(name: string, args: LiveFilesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:LiveFiles", name, {}, opts);
        if ("exec" in args.reload && args.reload.exec.length === 0) throw new Error(`LiveFiles ${name}: reload command is empty`);
        const contents = pulumi.all(args.files.map((f) => pulumi.output(f.content)));
        this.contentHash = pulumi.unsecret(contents.apply((texts) => filesHash(args.files.map((f, i) => ({ path: f.path, content: texts[i] })))));
        const request = pulumi.secret(
            pulumi.all([args.container.id, contents]).apply(([container, texts]) =>
                JSON.stringify({
                    action: "push",
                    container,
                    files: args.files.map((f, i) => ({ path: f.path, content: texts[i], mode: f.mode, owner: f.owner })),
                    check: args.check ?? [],
                    reload: args.reload,
                }),
            ),
        );
        new command.local.Command(
            `${name}-push`,
            {
                create: "node scripts/docker-files.js",
                dir: path.join(__dirname, "..", ".."),
                stdin: request,
                triggers: [this.contentHash],
                logging: "stderr",
            },
            { parent: this, dependsOn: [args.container] },
        );
        this.registerOutputs({ contentHash: this.contentHash });
    }
}

/**
 * Options for a container whose files LiveFiles keeps current: uploads apply only at
 * creation, and `pulumi up` waits until it is healthy, so the first reload finds it serving.
 */
export const liveFilesContainerOptions: RunOptions = { ignoreChanges: ["uploads"], waitForHealthy: true };
