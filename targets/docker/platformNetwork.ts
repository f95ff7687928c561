import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

export interface PlatformNetworkArgs {
    /** Labels put on the network; default none. */
    readonly labels?: Readonly<Record<string, string>>;
}

/** The one user-defined bridge network; its embedded DNS lets nginx and Prometheus find replicas by alias. */
export class PlatformNetwork extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: PlatformNetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:PlatformNetwork", name, {}, opts);
        const network = new docker.Network(
            `${name}-bridge`,
            {
                driver: "bridge",
                labels: Object.entries(args.labels ?? {}).map(([label, value]) => ({ label, value })),
            },
            { parent: this },
        );
        this.name = network.name;
        this.registerOutputs({ name: this.name });
    }
}
