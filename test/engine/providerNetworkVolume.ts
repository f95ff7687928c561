/**
 * docker_network and docker_volume as @pulumi/docker 5.2.0 creates, reads and deletes them
 * on the Docker Engine API (part of test/engine/provider.ts's imitation, which re-exports
 * all of it).
 */
import Docker from "dockerode";
import { engineMessage, LabelInput, labelsToMap, ProviderError } from "./providerTypes";

// ---------------------------------------------------------------------------------------
// Network and Volume

export interface NetworkInputs {
    driver?: string;
    internal?: boolean;
    attachable?: boolean;
    options?: Record<string, string>;
    labels?: LabelInput[];
}

/** docker_network Create: NetworkCreate with CheckDuplicate, as resource_docker_network_funcs does. */
export async function createNetwork(docker: Docker, name: string, inputs: NetworkInputs = {}): Promise<{ id: string; name: string }> {
    try {
        const network = await docker.createNetwork({
            Name: name,
            CheckDuplicate: true,
            Driver: inputs.driver ?? "bridge",
            Internal: inputs.internal ?? false,
            Attachable: inputs.attachable ?? false,
            Options: inputs.options ?? {},
            Labels: labelsToMap(inputs.labels),
        });
        return { id: network.id, name };
    } catch (err) {
        throw new ProviderError(`failed to create docker network: ${engineMessage(err)}`);
    }
}

/** docker_network Read: name, driver, internal, attachable, options, labels. */
export async function readNetwork(docker: Docker, id: string) {
    const n = await docker.getNetwork(id).inspect();
    return {
        id: n.Id as string,
        name: n.Name as string,
        driver: n.Driver as string,
        internal: n.Internal as boolean,
        attachable: n.Attachable as boolean,
        options: (n.Options ?? {}) as Record<string, string>,
        labels: mapToLabels(n.Labels),
    };
}

export async function deleteNetwork(docker: Docker, id: string): Promise<void> {
    await docker.getNetwork(id).remove();
}

export interface VolumeInputs {
    driver?: string;
    driverOpts?: Record<string, string>;
    labels?: LabelInput[];
}

/** docker_volume Create: VolumeCreate with name, driver, driver options and labels. */
export async function createVolume(docker: Docker, name: string, inputs: VolumeInputs = {}): Promise<{ id: string; name: string }> {
    try {
        await docker.createVolume({
            Name: name,
            Driver: inputs.driver ?? "local",
            DriverOpts: inputs.driverOpts ?? {},
            Labels: labelsToMap(inputs.labels),
        });
        const created = await docker.getVolume(name).inspect();
        return { id: created.Name, name: created.Name };
    } catch (err) {
        throw new ProviderError(`Unable to create volume: ${engineMessage(err)}`);
    }
}

/** docker_volume Read: the id is the name; driver, mountpoint, labels and options come back. */
export async function readVolume(docker: Docker, name: string) {
    const v = await docker.getVolume(name).inspect();
    return {
        id: v.Name,
        name: v.Name,
        driver: v.Driver,
        mountpoint: v.Mountpoint,
        labels: mapToLabels(v.Labels ?? {}),
        driverOpts: (v.Options ?? {}) as Record<string, string>,
    };
}

export async function deleteVolume(docker: Docker, name: string): Promise<void> {
    await docker.getVolume(name).remove();
}

function mapToLabels(map: Record<string, string> | undefined): LabelInput[] {
    return Object.entries(map ?? {}).map(([label, value]) => ({ label, value }));
}
