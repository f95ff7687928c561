import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * The program as it was at the last commit before the layout move (issue 18), extracted into
 * .cache/ (git-ignored) from this clone's history: the move guards deploy or evaluate it, then
 * this checkout's program, and expect nothing to change. Bump it to the last commit before
 * the next move of resources between files or components.
 */
export const baselineCommit = "8801f13";
const root = path.join(__dirname, "..", "..");

export function baselineProgramDir(): string {
    const dir = path.join(root, ".cache", `program-${baselineCommit}`);
    if (fs.existsSync(path.join(dir, "index.ts"))) return dir;
    const staging = `${dir}.${process.pid}`;
    fs.mkdirSync(staging, { recursive: true });
    const archive = spawnSync("git", ["-C", root, "archive", "--format=tar", baselineCommit, "index.ts", "components", "monitoring", "targets", "scripts", "backup", "app", "Pulumi.yaml"], { maxBuffer: 256 * 1024 * 1024 });
    if (archive.status !== 0) throw new Error(`git archive ${baselineCommit} failed (a shallow clone lacks it): ${archive.stderr}`);
    const untar = spawnSync("tar", ["-x", "-C", staging], { input: archive.stdout });
    if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
    // Two jests may extract at once: the first rename wins, the other's copy is dropped.
    try {
        fs.renameSync(staging, dir);
    } catch {
        fs.rmSync(staging, { recursive: true, force: true });
    }
    return dir;
}
