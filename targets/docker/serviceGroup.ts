import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { DeclaredGroup, ServiceGroup, ServicePart, VolumeDeclaration } from "../../components/platform/service";
import { Workload } from "../../components/platform/workload";
import { dataVolume } from "./dataVolume";
import { liveFilesContainerOptions, LiveFiles } from "./liveFiles";
import { DockerPlacement, RunOptions, runOnDocker } from "./runner";
import { VolumeFiles } from "./volumeFiles";

/** What the groups of one stack share on one host: placement, and the volumes each declared (by key). */
export interface DockerStackContext {
    readonly placement: DockerPlacement;
    readonly volumes: Map<string, pulumi.Output<string>>;
    readonly groups: Map<string, pulumi.Resource>;
}

/** One service group on one host: a component of the group's own type holding its volumes, containers and live files. */
class DockerServiceGroup extends pulumi.ComponentResource {
    constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
    }
}

/** The group's containers by part name, and what it reports for the stack outputs. */
export interface DockerGroupRun {
    readonly containers: ReadonlyMap<string, docker.Container>;
    readonly outputs: DeclaredGroup["outputs"];
}

/**
 * Runs a service group on one host, deciding from each part's data: an exclusive part
 * (data volume, fixed host ports) is replaced delete-first; replicas are created one after
 * another, each healthy before the next, new beside old; live files are pushed into the
 * running container and reloaded; a read-only root's files are written into a volume.
 */
export function runGroupOnDocker(group: ServiceGroup, context: DockerStackContext): DockerGroupRun {
    const after = (group.after ?? []).map((name) => {
        const found = context.groups.get(name);
        if (!found) throw new Error(`${group.name} runs after ${name}, which is not declared before it`);
        return found;
    });
    const component = new DockerServiceGroup(group.componentType, group.name, after.length > 0 ? { dependsOn: after } : undefined);
    context.groups.set(group.name, component);
    for (const volume of group.volumes ?? []) context.volumes.set(volume.key, declareVolume(volume, component).name);
    const declared = group.declare(component);
    const containers = new Map<string, docker.Container>();
    for (const part of declared.parts) {
        if (part.onlyOn === "swarm") continue;
        for (const [name, container] of runPart(group.name, part, component, after, context)) containers.set(name, container);
    }
    return { containers, outputs: declared.outputs };
}

function declareVolume(volume: VolumeDeclaration, parent: pulumi.Resource): docker.Volume {
    if (volume.dockerName) return dataVolume(volume.resourceName, volume.dockerName, volume.data?.retain ?? false, parent);
    return new docker.Volume(volume.resourceName, {}, { parent });
}

function runPart(group: string, part: ServicePart, parent: pulumi.Resource, after: pulumi.Resource[], context: DockerStackContext): [string, docker.Container][] {
    let workload = withDeclaredVolumes(part.workload, context.volumes);
    const dependsOn: pulumi.Resource[] = [...after];
    if (workload.readOnlyRootFs && (workload.files ?? []).length > 0) {
        const written = filesIntoVolume(group, workload, parent);
        workload = written.workload;
        dependsOn.push(written.writer);
    }
    if (part.replicas) {
        const replicas: [string, docker.Container][] = [];
        for (let i = 0; i < part.replicas.count; i++) {
            const name = part.replicas.containerName(i);
            const previous = replicas.slice(-1).map(([, container]) => container);
            // The docker provider asks delete-first for every container (its ResourceInfo); a
            // replica's successor has its own generated name, so it starts beside it.
            replicas.push([
                name,
                runOnDocker(name, workload, context.placement, { parent, waitForHealthy: true, deleteBeforeReplace: false, dependsOn: [...dependsOn, ...previous] }),
            ]);
        }
        return replicas;
    }
    const options: RunOptions = {
        parent,
        // One TSDB or SQLite file, or fixed host ports: the old container must go before its successor starts.
        ...(part.exclusive ? { deleteBeforeReplace: true } : {}),
        ...(part.liveFiles ? liveFilesContainerOptions : {}),
        ...(dependsOn.length > 0 ? { dependsOn } : {}),
    };
    const container = runOnDocker(part.name, workload, context.placement, options);
    if (part.liveFiles) {
        const live = part.liveFiles;
        new LiveFiles(`${group}-${live.name}`, { container, files: workload.files ?? [], check: live.check, reload: live.reload }, { parent });
    }
    return [[part.name, container]];
}

/** The workload with each mounted volume that a group declared given by its resource's name (so it is created first). */
function withDeclaredVolumes(workload: Workload, volumes: ReadonlyMap<string, pulumi.Output<string>>): Workload {
    if (!workload.volumes) return workload;
    return {
        ...workload,
        volumes: workload.volumes.map((v) => {
            const declared = typeof v.volumeName === "string" ? volumes.get(v.volumeName) : undefined;
            return declared ? { ...v, volumeName: declared } : v;
        }),
    };
}

/**
 * Docker refuses uploads into a read-only root filesystem, even onto a volume, so the daemon
 * writes the files (one directory) into a volume of their own before the container starts;
 * a changed file changes the container's label and so rolls it to read them.
 */
function filesIntoVolume(group: string, workload: Workload, parent: pulumi.Resource): { workload: Workload; writer: VolumeFiles } {
    const files = workload.files ?? [];
    const directory = path.posix.dirname(files[0].path);
    const outside = files.find((f) => path.posix.dirname(f.path) !== directory);
    if (outside) throw new Error(`${group}: files of a read-only root must share one directory; ${outside.path} is not in ${directory}`);
    const volume = new docker.Volume(`${group}-secrets`, {}, { parent });
    const writer = new VolumeFiles(
        `${group}-secret-files`,
        { volumeName: volume.name, image: workload.image, files: files.map((f) => ({ ...f, path: path.posix.basename(f.path) })) },
        { parent },
    );
    return {
        writer,
        workload: {
            ...workload,
            files: [],
            labels: { ...workload.labels, "clinicalbdd.secrets-version": writer.contentHash.apply((h) => h.slice(0, 16)) },
            volumes: [...(workload.volumes ?? []), { volumeName: volume.name, containerPath: directory, readOnly: true }],
        },
    };
}
