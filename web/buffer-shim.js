// Injected into the web bundle (scripts/build-web.mjs): the one Buffer call jpeg-js's encoder makes.
export const Buffer = { from: (bytes) => Uint8Array.from(bytes) };
