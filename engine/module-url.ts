/** URLs of sibling modules that work both from source (tsx runs the .ts files) and from the compiled package (dist/*.js). */

/** The URL of `relative` (a path ending in .ts) from the module at `base`, with .js when `base` itself is compiled JavaScript. */
export function moduleUrl(relative: string, base: string): URL {
  return new URL(base.endsWith('.ts') ? relative : relative.replace(/\.ts$/, '.js'), base);
}
