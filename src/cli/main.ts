#!/usr/bin/env node
import { Command } from 'commander';
import { registerIngest } from './commands/ingest.js';
import { registerQuery } from './commands/query.js';
import { registerServe } from './commands/serve.js';
import { registerSimulator } from './commands/simulator.js';
import { registerTables } from './commands/tables.js';
import { registerToken } from './commands/token.js';
import { runMain } from './output.js';

const program = new Command('vigil')
  .description('Vigil: a self-hosted security workspace (Sentinel-style connectors, KQL, incidents)')
  .showHelpAfterError()
  .exitOverride();

registerServe(program);
registerIngest(program);
registerQuery(program);
registerTables(program);
registerToken(program);
registerSimulator(program);

await runMain(() => program.parseAsync(process.argv));
