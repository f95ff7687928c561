import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/**
 * A named data volume. The name is fixed per stack (not autonamed) so that a volume kept
 * by `pulumi destroy` is found and reattached by the next `pulumi up`; `retain` keeps it
 * on destroy unless the operator has set retainDataVolumes to false.
 */
export function dataVolume(name: string, dockerName: string, retain: boolean, parent: pulumi.Resource): docker.Volume {
    return new docker.Volume(
        name,
        { name: dockerName, labels: [{ label: "clinicalbdd.data", value: "true" }] },
        { parent, retainOnDelete: retain },
    );
}
