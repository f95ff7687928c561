import { createHash } from "crypto";

/** A file as hashed: its path, content and, where they decide who may read it, mode and owner. */
export interface HashedFile {
    readonly path: string;
    readonly content: string;
    readonly mode?: string;
    readonly owner?: string;
}

/**
 * sha256 of files' paths and contents: what changes whenever a running process must read its
 * files again. `withOwnership` adds mode and owner (files written into a volume, whose
 * readers roll on any change).
 */
export function filesHash(files: readonly HashedFile[], withOwnership = false): string {
    const hash = createHash("sha256");
    for (const f of files) {
        hash.update(withOwnership ? `${f.path}\0${f.mode ?? ""}\0${f.owner ?? ""}\0${f.content}\0` : `${f.path}\0${f.content}\0`);
    }
    return hash.digest("hex");
}
