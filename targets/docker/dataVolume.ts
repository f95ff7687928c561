import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DockerPlacement } from "./runner";
import { Limits } from "../../components/platform/workload";

/** What Prometheus, Alertmanager and Grafana each take besides their own files. */
export interface DataServiceArgs {
    /** Host address and port of the UI/API (monitoringBindAddress, 127.0.0.1 by default). */
    readonly bindAddress: string;
    readonly hostPort: number;
    /** Docker name of the data volume, and whether destroy keeps it. */
    readonly volumeName: string;
    readonly retainVolume: boolean;
    /** Network and log rotation. */
    readonly placement: DockerPlacement;
    /** Limits; each service states its default. */
    readonly limits?: Limits;
}

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
