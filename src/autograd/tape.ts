// Reverse-mode autograd: ops record a node on their output while any input requires grad; backward walks the
// nodes from a scalar in reverse topological order, accumulates gradients, then frees the graph.
import { Tensor, fmtShape, type GradNodeRef } from '../graph/tensor.js';
import { accumulate } from '../graph/accumulate.js';
import { fill } from '../graph/fill.js';

/** The gradients of a node's inputs from that of its output. into[i], where not null, is a gradient that input i
 * already has and that nobody else sees: the op may add its gradient to it in place and return it (summed inside
 * its own kernel instead of by a separate accumulation). */
export type BackwardFn = (gradOutput: Tensor, into: (Tensor | null)[]) => (Tensor | null)[];

let gradDisabled = 0;

export function isGradEnabled(): boolean {
  return gradDisabled === 0;
}

/** Runs fn without recording: nothing inside gets a node, so nothing is kept for backward. */
export function noGrad<T>(fn: () => T): T {
  gradDisabled++;
  try {
    return fn();
  } finally {
    gradDisabled--;
  }
}

class GradNode implements GradNodeRef {
  private alive = true;
  constructor(
    readonly op: string,
    readonly inputs: Tensor[],
    private saved: Tensor[],
    readonly backward: BackwardFn,
  ) {
    inputs.forEach((t) => t.requiresGrad && t.retain());
    saved.forEach((t) => t.retain());
  }

  /** Drops the references that kept inputs and saved activations alive for backward. */
  release(): void {
    if (!this.alive) return;
    this.alive = false;
    this.inputs.forEach((t) => t.requiresGrad && t.release());
    this.saved.forEach((t) => t.release());
    this.saved = [];
  }
}

/**
 * Attaches a backward function to an op's output when grad mode is on and some input requires grad.
 * `saved` are tensors the backward reads (kept alive even if the caller disposes them).
 */
export function record(op: string, inputs: Tensor[], output: Tensor, saved: Tensor[], backward: BackwardFn): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return output;
  output.requiresGrad = true;
  // A saved output needs no reference: the node lives on the output, so the output outlives it.
  output.node = new GradNode(op, inputs, saved.filter((t) => t !== output), backward);
  return output;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    const node = t.node as GradNode | null;
    for (const input of node?.inputs ?? []) if (input.node && !seen.has(input)) stack.push([input, false]);
  }
  return order.reverse();
}

/**
 * prev + g, consuming both. Summed into one whose storage nobody else sees: a backward may hand one gradient to
 * several inputs as views (add gives g to both), and writing into a shared one would change the others' gradients.
 */
function accumulated(prev: Tensor, g: Tensor): Tensor {
  if (!prev.isShared()) {
    accumulate(prev, g);
    g.dispose();
    return prev;
  }
  if (!g.isShared()) {
    accumulate(g, prev);
    prev.dispose();
    return g;
  }
  const sum = fill(prev.shape, 0);
  accumulate(sum, prev);
  accumulate(sum, g);
  prev.dispose();
  g.dispose();
  return sum;
}

/**
 * Backpropagates from a scalar loss (or from `gradOutput` for a non-scalar root). Leaf tensors with
 * requiresGrad get `.grad` (accumulated across calls; kept out of scopes). The graph is freed afterwards.
 */
export function backward(root: Tensor, gradOutput?: Tensor): void {
  root.assertLive('backward');
  if (!root.node) throw new Error(`backward: ${root.describe()} does not require grad (no recorded graph leads to it)`);
  if (!gradOutput && root.size !== 1) {
    throw new Error(`backward: expected a scalar loss, got ${fmtShape(root.shape)}; pass gradOutput for non-scalar roots`);
  }
  if (gradOutput && gradOutput.size !== root.size) {
    throw new Error(`backward: gradOutput ${fmtShape(gradOutput.shape)} does not match root ${fmtShape(root.shape)}`);
  }
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>();
  noGrad(() => {
    grads.set(root, gradOutput ? gradOutput.detach() : fill(root.shape, 1));
    for (const t of order) {
      const node = t.node as GradNode;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      // A leaf's first gradient goes where its optimizer keeps it (given back if this op gives none).
      const homed = node.inputs.map((input) => {
        if (!input.requiresGrad || input.node || input.grad || !input.gradHome) return false;
        input.grad = input.gradHome().keep();
        return true;
      });
      const into = node.inputs.map((input, i) => {
        if (!input.requiresGrad || node.inputs.indexOf(input) !== i || node.inputs.lastIndexOf(input) !== i) return null;
        const prev = input.node ? grads.get(input) : input.grad;
        return prev && !prev.isShared() && prev.shape.join() === input.shape.join() ? prev : null;
      });
      const inputGrads = node.backward(g, into);
      g.dispose();
      node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi && homed[i] && input.grad) {
          input.grad.dispose();
          input.grad = null;
        }
        if (!gi || gi === into[i]) return;
        if (!input.requiresGrad) {
          gi.dispose();
          return;
        }
        if (gi.size !== input.size) {
          throw new Error(`internal: ${node.op} backward gave ${fmtShape(gi.shape)} for input ${fmtShape(input.shape)}`);
        }
        const shaped = gi.shape.length === input.shape.length ? gi : gi.view(input.shape);
        if (shaped !== gi) gi.dispose();
        if (input.node) {
          const prev = grads.get(input);
          grads.set(input, prev ? accumulated(prev, shaped) : shaped);
        } else {
          input.grad = input.grad ? accumulated(input.grad, shaped).keep() : shaped.keep();
        }
      });
    }
  });
  for (const g of grads.values()) g.dispose();
  for (const t of order) {
    const node = t.node as GradNode | null;
    t.node = null;
    node?.release();
  }
}

/** Clears `.grad` of the given tensors (e.g. parameters before a step). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    t.grad?.dispose();
    t.grad = null;
  }
}
