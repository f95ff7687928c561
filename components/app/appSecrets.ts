import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SecretSettings } from "../platform/settings";
import { WorkloadFile } from "../platform/workload";

export interface AppSecretsArgs {
    /** The secret config values; SECRET_KEY, JWT_SECRET and ENCRYPTION_KEY are generated when absent. */
    readonly secrets: SecretSettings;
    /** uid of the app's user inside its image, which must be able to read the files. */
    readonly ownerUid: string;
    /** Directory inside the container for the secret files; default /run/secrets. */
    readonly directory?: string;
}

/** Secrets the app reads at start, as `NAME_FILE` variables pointing at 0400 files. */
export class AppSecrets extends pulumi.ComponentResource {
    /** The files, with paths relative to `directory` (a volume); each content is a secret Output. */
    public readonly files: readonly WorkloadFile[];
    /** NAME_FILE=path variables for the app's environment (paths only, never values). */
    public readonly fileEnvs: Readonly<Record<string, string>>;
    /** The directory holding the files. */
    public readonly directory: string;

    constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:AppSecrets", name, {}, opts);
        const directory = args.directory ?? "/run/secrets";
        this.directory = directory;
        const generatedOrGiven = (envName: string, given: pulumi.Output<string> | undefined) => {
            const generated = new random.RandomPassword(`${name}-${envName.toLowerCase().replace(/_/g, "-")}`, { length: 48, special: false }, { parent: this });
            return pulumi.secret(given ?? generated.result);
        };
        // Optional provider keys get a file only when configured: the app reads a missing
        // NAME_FILE as "not configured", and Docker refuses an empty upload.
        const optional: Record<string, pulumi.Output<string>> = {};
        if (args.secrets.openaiApiKey) optional.OPENAI_API_KEY = args.secrets.openaiApiKey;
        if (args.secrets.anthropicApiKey) optional.ANTHROPIC_API_KEY = args.secrets.anthropicApiKey;
        const values: Record<string, pulumi.Output<string>> = {
            SECRET_KEY: generatedOrGiven("SECRET_KEY", args.secrets.secretKey),
            JWT_SECRET: generatedOrGiven("JWT_SECRET", args.secrets.jwtSecret),
            ENCRYPTION_KEY: generatedOrGiven("ENCRYPTION_KEY", args.secrets.encryptionKey),
            ...optional,
        };
        const fileName = (envName: string) => envName.toLowerCase();
        this.files = Object.entries(values).map(([envName, content]) => ({
            path: fileName(envName),
            content,
            mode: "0400",
            owner: args.ownerUid,
            secret: true,
        }));
        this.fileEnvs = Object.fromEntries(Object.keys(values).map((envName) => [`${envName}_FILE`, `${directory}/${fileName(envName)}`]));
        this.registerOutputs({});
    }
}
