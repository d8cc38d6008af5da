// Module hooks for bench/tfjs_step.ts: tfjs-core's gradient registrations (dist/register_all_gradients.js) exist
// only as ES modules with extension-less imports in a package Node treats as CommonJS. These hooks let Node load
// that part of dist/ as ES modules; the gradients land in tfjs's global registry, shared with the bundle.
const DIST = '/@tensorflow/tfjs-core/dist/';

export async function resolve(specifier, context, next) {
  const inDist = context.parentURL?.includes(DIST) && !context.parentURL.includes('/tf-core.');
  if (inDist && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    try {
      return await next(`${specifier}.js`, context);
    } catch {
      return next(`${specifier}/index.js`, context);
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.includes(DIST) && !url.includes('/tf-core.') && url.endsWith('.js')) return next(url, { ...context, format: 'module' });
  return next(url, context);
}
