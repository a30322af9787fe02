// `npm pack` ships package.json as it is; this makes the packed copy a consumer's manifest: no repo scripts
// (prepare would be an install script of a tarball install), no devDependencies, no allowScripts.
// `strip` (prepack) keeps the original in package.json.orig; `restore` (postpack) puts it back.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const [mode] = process.argv.slice(2);
if (mode === 'strip') {
  if (existsSync('package.json.orig')) throw new Error('package.json.orig exists: a pack was interrupted; restore it first (node scripts/pack-manifest.mjs restore)');
  copyFileSync('package.json', 'package.json.orig');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  for (const k of ['scripts', 'devDependencies', 'allowScripts']) delete pkg[k];
  writeFileSync('package.json', JSON.stringify(pkg, null, 2) + '\n');
} else if (mode === 'restore') {
  if (existsSync('package.json.orig')) renameSync('package.json.orig', 'package.json');
} else {
  throw new Error('usage: node scripts/pack-manifest.mjs strip|restore');
}
