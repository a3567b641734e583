#!/usr/bin/env node
// The dashboard's script and styles are plain files beside its code (src/web/assets); tsc compiles only TypeScript,
// so the build copies them into dist/web/assets, where the built server reads them.
import { cpSync } from "node:fs";

cpSync("src/web/assets", "dist/web/assets", { recursive: true });
