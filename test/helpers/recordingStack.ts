/** A recording double of cli/pulumiStack.ts's PulumiStack: config held in memory, every call recorded in order. */
import { PulumiStack } from "../../cli/pulumiStack";

export class RecordingStack implements PulumiStack {
    readonly calls: string[] = [];
    constructor(
        readonly config: Record<string, string> = {},
        readonly outputs: Record<string, string> = {},
    ) {}
    async getConfig(key: string): Promise<string | undefined> {
        this.calls.push(`getConfig ${key}`);
        return this.config[key];
    }
    async setConfig(key: string, value: string): Promise<void> {
        this.calls.push(`setConfig ${key}=${value}`);
        this.config[key] = value;
    }
    async preview(onOutput: (text: string) => void): Promise<void> {
        this.calls.push("preview");
        onOutput("Previewing update (prod):\n");
    }
    async up(onOutput: (text: string) => void): Promise<void> {
        this.calls.push("up");
        onOutput("Updating (prod):\n");
    }
    async previewDestroy(onOutput: (text: string) => void): Promise<void> {
        this.calls.push("previewDestroy");
        onOutput("Previewing destroy (prod):\n");
    }
    async destroy(onOutput: (text: string) => void): Promise<void> {
        this.calls.push("destroy");
        onOutput("Destroying (prod):\n");
    }
    async output(key: string): Promise<string | undefined> {
        this.calls.push(`output ${key}`);
        return this.outputs[key];
    }
    /** The calls that change the stack. */
    changes(): string[] {
        return this.calls.filter((c) => /^(setConfig|up|destroy)/.test(c));
    }
}
