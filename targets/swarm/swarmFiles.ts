import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as path from "path";
import { WorkloadFile } from "../../components/platform/workload";

/** The configs and secrets of one service, in the form a docker.Service's containerSpec takes them. */
export interface SwarmFileRefs {
    readonly configs: docker.types.input.ServiceTaskSpecContainerSpecConfig[];
    readonly secrets: docker.types.input.ServiceTaskSpecContainerSpecSecret[];
}

/**
 * Each file as a Swarm config (or, when it holds a secret, a Swarm secret) named by its
 * content hash. Swarm objects are immutable: a changed file is a new object under a new name,
 * created before the service is updated to it, and the old one is removed only after the
 * rolling update has converged. The name is set here (autonamed otherwise), and the Terraform
 * bridge answers delete-before-replace for any explicitly set autonamed field, which Docker
 * refuses for an object a service still uses ("config … is in use"): `deleteBeforeReplace:
 * false` overrides the bridge, so nothing is ever removed first (checked on the real engine).
 */
export function swarmFiles(name: string, stack: string, files: readonly WorkloadFile[], parent: pulumi.Resource): SwarmFileRefs {
    const configs: SwarmFileRefs["configs"] = [];
    const secrets: SwarmFileRefs["secrets"] = [];
    for (const file of files) {
        if (!path.isAbsolute(file.path)) throw new Error(`${name}: ${file.path} must be an absolute path inside the container`);
        const slug = path.basename(file.path).replace(/[^A-Za-z0-9._-]/g, "-");
        // A hash of the content, never the content: Swarm shows object names to anyone on a manager.
        const hash = pulumi.unsecret(pulumi.output(file.content).apply((text) => createHash("sha256").update(text).digest("hex").slice(0, 12)));
        const dockerName = hash.apply((h) => `${`${stack}-${name}-${slug}`.slice(0, 50)}-${h}`);
        const data = pulumi.output(file.content).apply((text) => Buffer.from(text, "utf8").toString("base64"));
        const target = {
            fileName: file.path,
            fileUid: file.owner ?? "0",
            fileGid: file.owner ?? "0",
            fileMode: parseInt(file.mode ?? (file.secret ? "0400" : "0444"), 8),
        };
        if (file.secret) {
            const secret = new docker.Secret(`${name}-${slug}`, { name: dockerName, data: pulumi.secret(data) }, { parent, deleteBeforeReplace: false });
            secrets.push({ ...target, secretId: secret.id, secretName: secret.name });
        } else {
            const config = new docker.ServiceConfig(`${name}-${slug}`, { name: dockerName, data }, { parent, deleteBeforeReplace: false });
            configs.push({ ...target, configId: config.id, configName: config.name });
        }
    }
    return { configs, secrets };
}
