/**
 * Whether a replaced resource is deleted before its successor is created, decided as the real
 * pieces decide it, read from their code (not assumed):
 *   1. the provider's Diff, through the Terraform bridge (pulumi-terraform-bridge
 *      pkg/tfbridge/provider.go): `deleteBeforeReplace := len(replaces) > 0 &&
 *      (res.Schema.DeleteBeforeReplace || nameRequiresDeleteBeforeReplace(...))`, where the
 *      second is true when an autonamed field holds a value the program set (a unique name
 *      cannot exist twice);
 *   2. the engine (pulumi pkg/resource/deploy/step_generator.go): `deleteBeforeReplace :=
 *      diff.DeleteBeforeReplace; if goal.DeleteBeforeReplace != nil { use the option }`, so a
 *      resource's own `deleteBeforeReplace` option, true or false, overrides the provider.
 * The docker provider's ResourceInfo (pulumi-docker provider/resources.go) sets
 * `DeleteBeforeReplace: true` on docker_container and `SetAutonaming(255, "-")`, which makes
 * `name` autonamed on every resource whose schema has one, except docker_image (RemoteImage),
 * whose Fields entry for `name` comes first.
 */
import type { CustomResourceOptions } from "@pulumi/pulumi";
import type { DeclaredResource } from "../helpers/pulumiProgram";
import { containerSchema } from "./providerDiff";

export const CONTAINER = "docker:index/container:Container";
export const VOLUME = "docker:index/volume:Volume";
export const NETWORK = "docker:index/network:Network";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const SERVICE = "docker:index/service:Service";
export const SECRET = "docker:index/secret:Secret";
export const CONFIG = "docker:index/serviceConfig:ServiceConfig";

interface ProviderRules {
    /** ResourceInfo.DeleteBeforeReplace. */
    readonly deleteFirst: boolean;
    /** Autonamed input fields (SetAutonaming). */
    readonly autonamed: readonly string[];
    /** Input fields that force a replacement (ForceNew in terraform-provider-docker); "*" every field. */
    readonly forceNew: readonly string[] | "*";
}

/** terraform-provider-docker's schemas for the resources the program declares. */
const docker: Readonly<Record<string, ProviderRules>> = {
    [CONTAINER]: { deleteFirst: true, autonamed: ["name"], forceNew: Object.keys(containerSchema).filter((f) => containerSchema[f].forceNew) },
    // resource_docker_volume.go: name, driver, driver_opts and labels are all ForceNew.
    [VOLUME]: { deleteFirst: false, autonamed: ["name"], forceNew: "*" },
    // resource_docker_network.go: every argument is ForceNew.
    [NETWORK]: { deleteFirst: false, autonamed: ["name"], forceNew: "*" },
    [REMOTE_IMAGE]: { deleteFirst: false, autonamed: [], forceNew: ["name", "pullTriggers", "platform"] },
    // resource_docker_service.go: only the name is ForceNew; the rest is a service update.
    [SERVICE]: { deleteFirst: false, autonamed: ["name"], forceNew: ["name"] },
    // resource_docker_secret.go / resource_docker_config.go: every field ForceNew (objects are immutable).
    [SECRET]: { deleteFirst: false, autonamed: ["name"], forceNew: "*" },
    [CONFIG]: { deleteFirst: false, autonamed: ["name"], forceNew: "*" },
};

/** Every docker resource type whose replacement order this file decides. */
export const dockerTypes = Object.keys(docker);

export interface ReplacementOrder {
    /** The change replaces the resource (a ForceNew field changed, or a replacementTrigger). */
    readonly replaces: boolean;
    /** The old object is deleted before the new one is created. */
    readonly deleteFirst: boolean;
    /** Who decided: `provider: ResourceInfo`, `provider: explicit name`, `option`, or `default`. */
    readonly decidedBy: string;
}

/** How a change of `changed` fields on `resource` (as declared after the change) lands. */
export function replacementOrder(resource: DeclaredResource, changed: readonly string[]): ReplacementOrder {
    const rules = docker[resource.type];
    const forceNew = rules?.forceNew ?? "*";
    const replaces = changed.some((f) => f === "replacementTrigger" || forceNew === "*" || forceNew.includes(f));
    if (!replaces) return { replaces, deleteFirst: false, decidedBy: "update" };
    const option = (resource.opts as CustomResourceOptions).deleteBeforeReplace;
    if (option !== undefined) return { replaces, deleteFirst: option, decidedBy: "option" };
    if (rules?.deleteFirst) return { replaces, deleteFirst: true, decidedBy: "provider: ResourceInfo" };
    if (rules?.autonamed.some((f) => resource.inputs[f] !== undefined)) return { replaces, deleteFirst: true, decidedBy: "provider: explicit name" };
    return { replaces, deleteFirst: false, decidedBy: "default" };
}
