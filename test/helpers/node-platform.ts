// Tests import engine modules directly, not through the Node entry: install the Node host (src/platform/node.ts).
import '../../src/platform/node.js';
