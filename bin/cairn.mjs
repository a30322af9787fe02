#!/usr/bin/env node
// cairn's command line: registers the TypeScript loader, then runs engine/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
