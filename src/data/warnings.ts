// Data problems that do not stop a command but must not pass silently (a dropped alpha channel, unmatched pairs):
// one line each on stderr, or to whoever listens (tests, a caller that collects them).
type Listener = (message: string) => void;

const stderrListener: Listener = (m) => console.warn(`warning: ${m}`);
let listener: Listener = stderrListener;

export function warn(message: string): void {
  listener(message);
}

/** Routes warnings to fn until the returned function is called. */
export function onWarning(fn: Listener): () => void {
  const prev = listener;
  listener = fn;
  return () => {
    listener = prev;
  };
}
