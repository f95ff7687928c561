/**
 * The stack as the verbs that change it see it: config get/set, preview, up and destroy with
 * their progress streamed, one output. In production Pulumi's Automation API on the stack
 * of this project (LocalWorkspace.selectStack in the repository root, with the state backend
 * and passphrase of cli/pulumiEnv.ts); in the tests a recording double.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { repoRoot } from "./pulumiEnv";

export interface PulumiStack {
    /** The stack's value of a config key of this project, undefined when it is not set. */
    getConfig(key: string): Promise<string | undefined>;
    setConfig(key: string, value: string): Promise<void>;
    preview(onOutput: (text: string) => void): Promise<void>;
    up(onOutput: (text: string) => void): Promise<void>;
    previewDestroy(onOutput: (text: string) => void): Promise<void>;
    destroy(onOutput: (text: string) => void): Promise<void>;
    output(key: string): Promise<string | undefined>;
}

export class AutomationStack implements PulumiStack {
    private selected?: Promise<Stack>;

    constructor(
        readonly stackName: string,
        readonly workDir: string = repoRoot,
    ) {}

    private stack(): Promise<Stack> {
        this.selected ??= import("@pulumi/pulumi/automation").then(({ LocalWorkspace }) => LocalWorkspace.selectStack({ stackName: this.stackName, workDir: this.workDir }));
        return this.selected;
    }

    async getConfig(key: string): Promise<string | undefined> {
        const stack = await this.stack();
        const all = await stack.getAllConfig();
        const project = (await stack.workspace.projectSettings()).name;
        return all[`${project}:${key}`]?.value;
    }

    async setConfig(key: string, value: string): Promise<void> {
        await (await this.stack()).setConfig(key, { value });
    }

    async preview(onOutput: (text: string) => void): Promise<void> {
        await (await this.stack()).preview({ onOutput });
    }

    async up(onOutput: (text: string) => void): Promise<void> {
        await (await this.stack()).up({ onOutput });
    }

    async previewDestroy(onOutput: (text: string) => void): Promise<void> {
        await (await this.stack()).previewDestroy({ onOutput });
    }

    async destroy(onOutput: (text: string) => void): Promise<void> {
        await (await this.stack()).destroy({ onOutput });
    }

    async output(key: string): Promise<string | undefined> {
        const value = (await (await this.stack()).outputs())[key]?.value;
        return value === undefined ? undefined : String(value);
    }
}
