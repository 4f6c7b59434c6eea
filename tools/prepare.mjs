// npm runs `prepare` after every `npm ci`. A development install builds the TypeScript here. A
// production install (`npm ci --omit=dev`) lacks the dev dependencies the build needs (TypeScript
// itself may still come in as a peer of a runtime package, so its presence proves nothing): it
// runs the files built in the image's build stage (README, "Production install"), so this only
// says whether they are there.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Looked up on disk: some packages' export maps hide their package.json from require.resolve.
const installed = (name) => existsSync(new URL(`../node_modules/${name}/package.json`, import.meta.url));

if (Object.keys(manifest.devDependencies ?? {}).every(installed)) {
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  process.exit(build.status ?? 1);
}
const built = ['apps/api/dist/cli.js', 'apps/api/dist/main.js', 'packages/legacy-fixture/dist/index.js'];
const missing = built.filter((file) => !existsSync(file));
process.stderr.write(
  missing.length === 0
    ? 'prepare: production install (no dev dependencies): using the built files in apps/api/dist and packages/legacy-fixture/dist\n'
    : `prepare: production install (no dev dependencies) and ${missing.join(', ')} missing: build with "npm ci && npm run build" in a build stage and copy apps/api/dist and packages/legacy-fixture/dist before starting\n`,
);
