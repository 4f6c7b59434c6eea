import { dirname } from 'node:path';

/**
 * nest-commander requires inquirer (with lodash, rxjs operators, chardet, iconv-lite: about 250
 * modules) when it is loaded, to offer interactive questions; no command of ours asks any, so
 * every command paid 0.1–0.3 s of start-up for nothing. This puts a stand-in for inquirer in the
 * module cache before nest-commander is loaded: the same keys, each loading the real inquirer the
 * first time it is read (nest-commander copies them as getters), so a prompt still works.
 */
export function deferInquirer(): void {
  let path: string;
  try {
    path = require.resolve('inquirer', { paths: [dirname(require.resolve('nest-commander'))] });
  } catch {
    return; // laid out otherwise: nest-commander loads it as it always did
  }
  if (require.cache[path]) return;
  let real: Record<string, unknown> | undefined;
  const load = (): Record<string, unknown> => {
    if (!real) {
      delete require.cache[path];
      real = require(path) as Record<string, unknown>;
    }
    return real;
  };
  const standIn: Record<string, unknown> = {};
  for (const key of [
    'prompts',
    'Separator',
    'ui',
    'createPromptModule',
    'prompt',
    'registerPrompt',
    'restoreDefaultPrompts',
  ])
    Object.defineProperty(standIn, key, { enumerable: true, get: () => load()[key] });
  const module = new (require('node:module') as typeof import('node:module'))(path);
  module.filename = path;
  module.loaded = true;
  module.exports = standIn;
  require.cache[path] = module;
}
