#!/usr/bin/env node
import * as Module from 'node:module';
import { answerHelpStatically } from './cli/help/static-help';

// Node >= 22.1 keeps the compiled bytecode of our modules and their dependencies between runs;
// Node 20 has no such cache and starts as before.
(Module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// pg decides at load time whether it runs in a Cloudflare Worker: without a global `navigator` (Node
// < 21) it constructs a fetch Response to find out, which loads undici, 40 ms of every command's
// start-up here and 200 ms on a busy machine. Node 21+ defines this same object itself.
if (!('navigator' in globalThis))
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.freeze({ userAgent: `Node.js/${process.versions.node.split('.')[0]}` }),
    configurable: true,
  });

/**
 * The `topsteel` entry: help requests are answered from the table the build wrote (commander
 * alone), everything else loads the full CLI, its Nest context and the command's services.
 */
function main(): void {
  if (answerHelpStatically(process.argv.slice(2), 'topsteel')) {
    // Exit once stdout is flushed, as the full CLI does: a piped reader gets the whole help.
    process.stdout.write('', () => process.exit(0));
    return;
  }
  // Loaded only here: requiring it imports Nest, TypeORM and every command with its services.
  require('./cli-application');
}

main();
