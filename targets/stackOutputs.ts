import * as pulumi from "@pulumi/pulumi";
import { PublicUrls } from "../components/platform/urls";

/** The stack outputs, the same on every target; the operator's verbs and tests read them. */
export interface StackOutputs extends PublicUrls {
    readonly grafanaAdminPassword: pulumi.Output<string>;
    readonly certificateExpiresAt: pulumi.Output<string>;
    readonly replicas: number;
    readonly appImage: pulumi.Output<string>;
    /** Hash of the files nginx runs with. */
    readonly nginxConfigHash: pulumi.Output<string>;
    /** Docker name of the backup job's container (one host) or service (Swarm). */
    readonly backupContainer: pulumi.Output<string>;
    /** Where the archives are: a host directory, or a volume's name. */
    readonly backupLocation: pulumi.Output<string>;
}
