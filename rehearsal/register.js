// Lets Node run rehearsal/*.ts directly (`node -r ./rehearsal/register.js rehearsal/cli.ts`):
// each .ts file is transpiled to CommonJS by the TypeScript compiler already in
// devDependencies as it is required. Types are checked by `tsc` and the jest run.
"use strict";
const fs = require("fs");
const ts = require("typescript");

require.extensions[".ts"] = (module, filename) => {
    const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true, inlineSourceMap: true },
    });
    module._compile(outputText, filename);
};
