#!/usr/bin/env node
// Package bin: runs the TypeScript CLI (cli/tse.ts) through tsx's loader, so no build step is needed.
import { register } from "tsx/esm/api";

register();
await import("../cli/tse.ts");
