import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** One key of the typed config schema declared in Pulumi.yaml. */
export interface ConfigKeySchema {
    readonly type: "string" | "integer" | "boolean" | "array";
    readonly default?: unknown;
    readonly description: string;
}

export const projectFile = path.join(__dirname, "..", "..", "Pulumi.yaml");

/**
 * The config schema of Pulumi.yaml, the single home of every default. The CLI applies these
 * defaults itself; reading them here gives the program (and its mock tests) the same ones.
 */
export function loadConfigSchema(file: string = projectFile): Readonly<Record<string, ConfigKeySchema>> {
    const project = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, ConfigKeySchema> };
    return Object.freeze({ ...(project.config ?? {}) });
}

/** The project name, which prefixes every config key (`clinical-bdd-creator:replicas`). */
export function loadProjectName(file: string = projectFile): string {
    return (parse(fs.readFileSync(file, "utf8")) as { name: string }).name;
}
