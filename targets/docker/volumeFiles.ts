import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { filesHash } from "../../components/platform/filesHash";
import { WorkloadFile } from "../../components/platform/workload";

export interface VolumeFilesArgs {
    /** Docker name of the volume to write into. */
    readonly volumeName: pulumi.Input<string>;
    /** Any local image; a throwaway container of it is created (never started) to reach the volume. */
    readonly image: pulumi.Input<string>;
    /** Files, with paths relative to the volume's root. */
    readonly files: readonly WorkloadFile[];
}

/**
 * Writes files into a named volume through the daemon (scripts/docker-files.js: docker
 * create, docker cp into the volume, docker rm), for containers whose read-only root
 * filesystem refuses uploads. Contents go on stdin only; the trigger is their hash, so a
 * changed secret is written again, and `versionLabel` lets the readers roll to read it.
 */
export class VolumeFiles extends pulumi.ComponentResource {
    /** Hash of the files' paths and contents (not secret: a hash of high-entropy values). */
    public readonly contentHash: pulumi.Output<string>;

    constructor(name: string, args: VolumeFilesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:VolumeFiles", name, {}, opts);
        if (args.files.length === 0) throw new Error(`VolumeFiles ${name}: no files to write`);
        const bad = args.files.find((f) => path.isAbsolute(f.path) || f.path.split("/").includes(".."));
        if (bad) throw new Error(`VolumeFiles ${name}: ${bad.path} must be relative to the volume's root`);
        const contents = pulumi.all(args.files.map((f) => pulumi.output(f.content)));
        this.contentHash = pulumi.unsecret(
            contents.apply((texts) => filesHash(args.files.map((f, i) => ({ path: f.path, mode: f.mode, owner: f.owner, content: texts[i] })), true)),
        );
        const request = pulumi.secret(
            pulumi.all([args.volumeName, args.image, contents]).apply(([volume, image, texts]) =>
                JSON.stringify({
                    action: "seed",
                    volume,
                    image,
                    files: args.files.map((f, i) => ({ path: f.path, content: texts[i], mode: f.mode, owner: f.owner })),
                }),
            ),
        );
        new command.local.Command(
            `${name}-write`,
            {
                create: "node scripts/docker-files.js",
                dir: path.join(__dirname, "..", ".."),
                stdin: request,
                triggers: [this.contentHash, args.volumeName],
                logging: "stderr",
            },
            { parent: this },
        );
        this.registerOutputs({ contentHash: this.contentHash });
    }
}
